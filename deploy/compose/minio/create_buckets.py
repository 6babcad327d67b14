"""Create the named S3 buckets on MinIO when missing (the compose stack's one-shot init)."""

import os
import sys

import boto3
from botocore.exceptions import ClientError


def main(buckets: list[str]) -> None:
    s3 = boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"])
    for bucket in buckets:
        try:
            s3.head_bucket(Bucket=bucket)
            print(f"bucket {bucket}: exists")
        except ClientError:
            s3.create_bucket(Bucket=bucket)
            print(f"bucket {bucket}: created")


if __name__ == "__main__":
    main(sys.argv[1:])
