"""The session's shared pipelines: built once per configuration, never reused for another one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from broker.pipeline import MessagePipeline
from broker.settings import PROJECT_ROOT, Settings
from entrypoints import api
from tests.support.pipelines import sharing


class _CountingBuild:
    """Stands in for `build_pipeline`: counts the builds and returns a distinct object each time."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, settings: Settings) -> MessagePipeline:
        self.builds += 1
        return object()  # type: ignore[return-value]  # only identity matters here


def _settings_with_own_policies(tmp_path: Path) -> Settings:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    return Settings(policy_dir=policies)


def test_the_same_configuration_gets_the_same_pipeline(tmp_path: Path) -> None:
    """Two apps on equal settings share one build."""
    build = _CountingBuild()
    shared = sharing(build)
    settings = _settings_with_own_policies(tmp_path)
    assert shared(settings) is shared(Settings(policy_dir=settings.policy_dir))
    assert build.builds == 1


def test_a_changed_policy_file_gets_a_fresh_pipeline(tmp_path: Path) -> None:
    """Editing a policy (its size or time changes) means a new build, not the remembered one."""
    build = _CountingBuild()
    shared = sharing(build)
    settings = _settings_with_own_policies(tmp_path)
    first = shared(settings)
    policy = next(settings.policy_dir.glob("*.toml"))
    policy.write_text(policy.read_text() + "\n# edited\n")
    assert shared(settings) is not first
    assert build.builds == 2


def test_other_limits_or_keys_get_a_fresh_pipeline(tmp_path: Path) -> None:
    """A different size limit or pseudonym key is another configuration."""
    build = _CountingBuild()
    shared = sharing(build)
    settings = _settings_with_own_policies(tmp_path)
    key = tmp_path / "other.key"
    key.write_bytes(os.urandom(32))
    shared(settings)
    shared(settings.model_copy(update={"max_message_bytes": settings.max_message_bytes + 1}))
    shared(settings.model_copy(update={"pseudonym_key_file": key}))
    assert build.builds == 3


def test_the_test_session_shares_the_apps_pipelines() -> None:
    """tests/conftest.py installed the sharing build before any test module imported `build_pipeline`."""
    assert api.build_pipeline.__name__ == "shared_build_pipeline"
    assert api.build_pipeline(Settings()) is api.build_pipeline(Settings())
