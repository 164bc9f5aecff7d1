"""The service package keeps one transaction owner: only the facade opens or commits (the
ConversationService class may span facade*.py modules, e.g. facade_recovery.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pa_core.service

PACKAGE = Path(pa_core.service.__file__).parent
TRANSACTION_CALLS = {"begin", "commit", "rollback", "transaction", "connect"}


def _calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def test_only_the_facade_opens_transactions():
    # facade_*.py hold groups of the facade's methods (mixins of ConversationService)
    facade = [p for p in PACKAGE.glob("facade*.py")]
    helpers = [p for p in PACKAGE.glob("*.py") if p not in facade and p.name != "__init__.py"]
    assert {p.stem for p in helpers} >= {"users", "sessions", "messages", "tokens", "export"}
    for path in helpers:
        assert not _calls(path) & TRANSACTION_CALLS, path.name
    assert "transaction" in _calls(PACKAGE / "facade.py")
    for path in (p for p in facade if p.name != "facade.py"):  # only through self.transaction
        assert not _calls(path) & (TRANSACTION_CALLS - {"transaction"}), path.name


def test_token_methods_are_on_the_service(svc, alice):
    token, record = svc.issue_token(alice, name="ci", expires_in_days=7)
    assert token.startswith("pa_") and record.active and record.name == "ci"
    assert svc.user_for_token(token) == alice
    assert [t.id for t in svc.list_tokens(alice)] == [record.id]
    assert svc.revoke_token(alice, record.id) is True
    assert svc.revoke_token(alice, record.id) is False
    assert svc.user_for_token(token) is None
    assert not svc.list_tokens(alice)[0].active
