"""Compile the VoiceOps training pipeline to Kubeflow Pipelines' IR YAML.

    python deploy/kfp/compile.py                      # -> deploy/kfp/voiceops_pipeline.yaml
    python deploy/kfp/compile.py --image REGISTRY/voiceops/training:SHA -o pipeline.yaml
    python deploy/kfp/compile.py --check              # exit 1 when the checked-in file is stale

The checked-in YAML is a build artifact compiled with the default image (the one the Katib
manifests use, ``tuning.render.default_image``); CI compiles again with the pushed image.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMPILED = HERE / "voiceops_pipeline.yaml"


def compile_pipeline(output: Path, image: str | None = None) -> Path:
    """Compile the pipeline on ``image`` (default: the training image) to ``output``."""
    from kfp import compiler

    sys.path.insert(0, str(HERE))  # pipeline.py beside this file (deploy/ is not a package)
    try:
        from pipeline import build_pipeline
    finally:
        sys.path.remove(str(HERE))
    from tuning.render import default_image

    compiler.Compiler().compile(build_pipeline(image or default_image()), str(output))
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=COMPILED)
    parser.add_argument("--image", default=None, help="training image (default: the version's)")
    parser.add_argument(
        "--check", action="store_true", help="compile to a temporary file and compare"
    )
    args = parser.parse_args(argv)
    if not args.check:
        print(compile_pipeline(args.output, args.image))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = compile_pipeline(Path(tmp) / "pipeline.yaml", args.image).read_text()
    if fresh != args.output.read_text():
        print(f"{args.output} is stale: run python deploy/kfp/compile.py", file=sys.stderr)
        return 1
    print(f"{args.output} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
