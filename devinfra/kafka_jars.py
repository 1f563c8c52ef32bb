"""The official Apache Kafka jars (`org.apache.kafka:kafka_2.13`), fetched once with Maven into a cache folder."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

KAFKA_VERSION = "4.1.1"
_LOG4J_VERSION = "2.24.3"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>fi.silta.devinfra</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


class KafkaLaunchError(RuntimeError):
    """The local Kafka broker could not be fetched, formatted or started."""


def fetch_kafka_jars(cache_dir: Path, version: str = KAFKA_VERSION) -> Path:
    """Return the folder of the broker's jars, fetching them with Maven once."""
    home = (cache_dir / f"kafka-{version}").resolve()
    libs = home / "libs"
    marker = home / ".complete"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return libs
        (home / "pom.xml").write_text(_POM.format(kafka=version, log4j=_LOG4J_VERSION))
        if shutil.which("mvn") is None:
            raise KafkaLaunchError("Maven (mvn) is not installed; run `make deps`")
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(home / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={libs}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise KafkaLaunchError(f"Maven could not fetch Kafka {version}:\n{result.stdout[-4000:]}")
        marker.touch()
    return libs
