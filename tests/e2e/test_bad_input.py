"""Broken monitoring setup never stops the service: it runs, and says what is wrong."""

from __future__ import annotations

from pathlib import Path

from tests.harness.shop import serve_traffic


def test_an_unusable_store_location_is_reported_and_the_app_keeps_serving(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    shop, stats = serve_traffic(tmp_path, {"RICECODER_STORE_PATH": str(blocker / "telemetry.db")}, seconds=1)
    assert stats.requests > 0
    assert set(stats.by_status) <= {200, 201, 404, 500}
    output = shop.output()
    assert f"cannot create the store {blocker / 'telemetry.db'}: Not a directory" in output
    assert "RICECODER_STORE_PATH" in output
    assert output.count("cannot store spans") == 1  # one warning, then drops are counted
    assert "Traceback" not in output.split("payment gateway")[0]  # only the app's own deliberate error


def test_an_invalid_config_file_at_start_up_is_listed_and_defaults_run(tmp_path: Path) -> None:
    config = tmp_path / "ricecoder.yaml"
    config.write_text("metrics:\n  cardinalty_limit: 10\n  export_interval: -5s\nalerting:\n  rules: {}\n")
    store = tmp_path / "telemetry.db"
    shop, stats = serve_traffic(
        tmp_path, {"RICECODER_CONFIG_FILE": str(config), "RICECODER_STORE_PATH": str(store)}, seconds=1
    )
    assert stats.requests > 0
    output = shop.output()
    assert "invalid configuration, running with defaults" in output
    assert "metrics.cardinalty_limit" in output and "did you mean 'cardinality_limit'" in output
    assert "metrics.export_interval" in output
    assert store.exists()  # the defaults, including the embedded store, are running
