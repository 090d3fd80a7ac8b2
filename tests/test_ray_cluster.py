"""A real two-node Ray cluster on this machine (two raylets, one CPU each): the app's backend pointed at it
(IMGAI_RAY_ADDRESS) runs two jobs on different nodes; both can be paused, stepped, saved and stopped; and
the jobs outlive the web server: after it disconnects, a new one finds them again, and the app page
re-attaches its ?job= link to the running job.
"""
import time
from pathlib import Path

import pytest

from imgai.models.checkpoint import load_checkpoint

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parent.parent

from tests.test_job_backends import long_run, settled, wait_for  # noqa: E402


@pytest.fixture
def cluster():
    from ray.cluster_utils import Cluster
    if ray.is_initialized():
        ray.shutdown()          # this process may be connected to the session's local Ray
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        c.add_node(num_cpus=1)
        c.wait_for_nodes()
        yield c
    finally:
        ray.shutdown()
        c.shutdown()


def test_two_jobs_run_on_two_nodes_can_be_controlled_and_survive_the_web_server(cluster, monkeypatch, tmp_path):
    import ui.jobs
    from ui.jobs import NO_BROWSER, _submit, backend, make_registry
    monkeypatch.setenv("IMGAI_RAY_ADDRESS", cluster.address)
    assert backend() == "ray"
    reg = make_registry()
    assert reg.persistent
    jobs = [_submit(reg, long_run(), owner=owner) for owner in (NO_BROWSER, "bob")]
    wait_for(lambda: all(j.status == "running" for j in jobs), timeout=120)
    nodes = [j.where()["node_id"] for j in jobs]
    assert len(set(nodes)) == 2 and set(nodes) == {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    for i, job in enumerate(jobs):
        job.pause()
        n = settled(job)
        job.step()
        wait_for(lambda: len(job.metrics()) == n + 1)
        assert job.status == "paused"
        base = job.save(tmp_path / f"job{i}")
        assert 1 <= load_checkpoint(base)[1]["step"] <= job.metrics()[-1]["step"]

    # the web server goes away (its Ray connection with it) and a new one starts: detached jobs live on
    ids = [j.id for j in jobs]
    reg.close()       # its process ends: its threads with it (close() leaves the detached jobs alone)
    ray.shutdown()
    reg2 = make_registry()
    again = [reg2.get(i) for i in ids]
    assert [j.owner for j in again] == [NO_BROWSER, "bob"] and all(j.status == "paused" for j in again)

    # and the app re-attaches the ?job= link of its owner (AppTest's session is the NO_BROWSER owner)
    from streamlit.testing.v1 import AppTest
    ui.jobs.registry.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["job"] = ids[0]
        at.run()
        assert not at.exception
        assert at.session_state[ui.jobs._KEY] == ids[0]
        assert any("paused" in m.value for m in at.sidebar.markdown)
    finally:
        ui.jobs.registry.clear()

    for job in again:
        job.resume()
        wait_for(lambda: job.status == "running")
        job.stop()
        assert job.wait(60) and job.status == "stopped"
    time.sleep(0.5)
