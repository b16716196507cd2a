"""The ``hostile`` fault kind: XXE, billion laughs and an external DTD instead of the answer."""

import pytest

from netvisor_sandbox.faults import KINDS, Faults

from .test_sandbox_core import get, sandbox  # noqa: F401 - the fixture


def test_hostile_documents_in_turn(sandbox):  # noqa: F811
    sandbox.faults.configure(queue=["hostile", "hostile", "hostile"])
    bodies = [get(sandbox) for _n in range(3)]
    assert [b.status_code for b in bodies] == [200, 200, 200]
    texts = [b.content for b in bodies]
    assert b'<!ENTITY xxe SYSTEM "file:///etc/passwd">' in texts[0]
    assert b'<!ENTITY i "&h;&h;' in texts[1]  # 10**9 characters once expanded
    assert b'<!DOCTYPE Root SYSTEM "http://' in texts[2]
    for text in texts:
        assert text.startswith(b'<?xml version="1.0"?>\n<!DOCTYPE Root')
        assert b"<Status>OK</Status>" in text  # looks like a success to a careless client
    assert sandbox.faults.injected["hostile"] == 3
    # nothing was processed, the company is free again
    assert get(sandbox).status_code == 200
    assert sandbox.state.stats["outcome:fault:hostile"] == 3


def test_hostile_only_when_asked():
    assert "hostile" not in KINDS
    faults = Faults()
    faults.configure(failure_rate=1.0, seed=1)
    assert {faults.pick("x.nv", "GET") for _n in range(200)} <= set(KINDS)
    faults.configure(kinds=["hostile"])
    assert faults.pick("x.nv", "POST") == "hostile"
    with pytest.raises(ValueError):
        faults.configure(kinds=["nonsense"])
