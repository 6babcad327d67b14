#!/usr/bin/env bash
# Runs a command with jemalloc as the process's malloc (LD_PRELOAD), when it is installed.
# TensorFlow on CPU frees and re-allocates large tensors every step; glibc's malloc returns
# them to the kernel (munmap) and page-faults them back, which spent a third of training
# time in the kernel on some machines. jemalloc keeps them: TTS steps 1.15x-1.7x faster
# (python -m bench.malloc_training). VOICEOPS_NO_JEMALLOC=1 runs with the system malloc.
set -euo pipefail
if [ "${VOICEOPS_NO_JEMALLOC:-0}" != "1" ]; then
  for lib in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
      /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    if [ -e "$lib" ]; then
      case ":${LD_PRELOAD:-}:" in
        *":$lib:"*) ;;
        *) export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" ;;
      esac
      break
    fi
  done
fi
exec "$@"
