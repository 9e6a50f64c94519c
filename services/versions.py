"""Pinned releases of the backing services: the one place their versions and checksums live.

OpenSearch comes as the `integ-test-zip` distribution from Maven Central: a real OpenSearch
with `bin/opensearch`, the HTTP transport and nothing else. The analysis-common module (the
`english` analyzer, `asciifolding`, stemmers) is published on Maven Central as a plain jar;
`services.local` lays it out as a module folder with a descriptor, as OpenSearch's own build
does. docker/ pins the same versions.
"""

from __future__ import annotations

from dataclasses import dataclass

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"

OPENSEARCH_VERSION = "2.19.6"
TIKA_VERSION = "3.2.2"


@dataclass(frozen=True)
class Artifact:
    """One file on Maven Central, verified by SHA-256 after download."""

    path: str
    sha256: str

    @property
    def url(self) -> str:
        return f"{MAVEN_CENTRAL}/{self.path}"

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


OPENSEARCH_ZIP = Artifact(
    f"org/opensearch/distribution/integ-test-zip/opensearch/{OPENSEARCH_VERSION}/opensearch-{OPENSEARCH_VERSION}.zip",
    "71d6d8b1c637f3faecda0752b184b1cc526fc6eaad59ec1408c6327bb00b9293",
)

# Extra OpenSearch modules: (module name, plugin class, artifact).
OPENSEARCH_MODULES = (
    (
        "analysis-common",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        Artifact(
            f"org/opensearch/plugin/analysis-common/{OPENSEARCH_VERSION}/analysis-common-{OPENSEARCH_VERSION}.jar",
            "187378844d92a043b935038f9ae168f7812f686b1c1c7128f8b97731baff8a1a",
        ),
    ),
)

TIKA_JAR = Artifact(
    f"org/apache/tika/tika-server-standard/{TIKA_VERSION}/tika-server-standard-{TIKA_VERSION}.jar",
    "04bcb61826403957cfab93cb1e14d4c305fbeb949475f031b0b73dab7e976995",
)
