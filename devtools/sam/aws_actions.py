"""Least privilege, checked: the AWS actions a function's code can call vs the actions its template policy grants.

*Called* is read from the source, not guessed: the modules a handler imports (``functions/`` and ``shared/``,
following the subpackages' lazy ``EXPORTS`` and imports inside functions, not ``if TYPE_CHECKING:``), and in
them every boto3 operation of a service the code makes a client for — a method call on a ``…client…`` object
(``self._client.send_message(...)``) or an operation named in a string (``self._call("update_item", ...)``) —
plus the calls of the Powertools utilities the code uses, as Powertools documents their IAM permissions.

*Granted* is the function's ``Policies`` in ``template.yaml``: SAM policy templates expanded from
aws-sam-translator's own ``policy_templates.json`` (wildcards against botocore's operation names), and inline
statements, both branches of an ``!If``. The least-privilege tests pass the statements of each function's role
as SAM deploys it (``devtools.sam.sam_transform``), so what SAM would add is compared too.
"""

from __future__ import annotations

import ast
import fnmatch
import glob
import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("functions", "shared")
SERVICES = ("sqs", "dynamodb", "secretsmanager", "ssm", "kms", "sns", "events", "s3")
# Powertools utilities call AWS for the code; the permissions their documentation lists:
# idempotency "IAM Permissions" (docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/) and the
# parameters utility's "IAM Permissions" table (…/utilities/parameters/).
LIBRARY_CALLS: Mapping[str, frozenset[str]] = {
    "DynamoDBPersistenceLayer": frozenset(
        {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    ),
    "get_secret": frozenset({"secretsmanager:GetSecretValue"}),
    "get_parameter": frozenset({"ssm:GetParameter"}),
}


@cache
def operations(service: str) -> dict[str, str]:
    """``{snake_case method: OperationName}`` of a boto3 client for ``service`` (botocore's model)."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def _module_file(module: str) -> Path | None:
    base = REPO.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except what sits under ``if TYPE_CHECKING:``."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                pending += child.orelse
                continue
            pending.append(child)


def _exports(package: str) -> dict[str, str]:
    """``{public name: module}`` from a subpackage's ``EXPORTS`` table (empty when it has none)."""
    init = _module_file(package)
    if init is None or init.name != "__init__.py":
        return {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "EXPORTS" for t in node.targets):
            table = ast.literal_eval(node.value)
            return {name: f"{package}.{module}" for module, names in table.items() for name in names}
    return {}


def _imported(node: ast.AST) -> Iterator[str]:
    """The project modules an import statement loads (a lazily exported name → its own module)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        yield node.module
        exports = _exports(node.module)
        for alias in node.names:
            yield exports.get(alias.name) or f"{node.module}.{alias.name}"


def module_closure(module: str) -> set[str]:
    """The ``functions``/``shared`` modules that importing ``module`` and calling into it can load."""
    found: set[str] = set()
    pending = [module]
    while pending:
        parts = pending.pop().split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c imports a and a.b first
            prefix = ".".join(parts[:depth])
            file = _module_file(prefix) if parts[0] in PACKAGES else None
            if prefix in found or file is None:
                continue
            found.add(prefix)
            pending += [m for node in _runtime_nodes(ast.parse(file.read_text())) for m in _imported(node)]
    return found


def _units(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """A module's top-level statements, with ``Class.method`` for each method (so one can be left out)."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                name = getattr(child, "name", "")
                yield (f"{node.name}.{name}" if name else node.name), child
        else:
            yield getattr(node, "name", ""), node


def function_code(handler: str, not_called: Mapping[str, Iterable[str]]) -> list[ast.AST]:
    """The code of every module a handler imports, less the definitions ``not_called`` names per module."""
    module = handler.rpartition(".")[0]
    code: list[ast.AST] = []
    for name in sorted(module_closure(module)):
        left_out = set(not_called.get(name, ()))
        units = list(_units(ast.parse(_module_file(name).read_text())))  # type: ignore[union-attr]
        unknown = left_out - {unit_name for unit_name, _ in units}
        if unknown:
            raise ValueError(f"{name} has no {sorted(unknown)}: update the exclusions")
        code += [unit for unit_name, unit in units if unit_name not in left_out]
    return code


def _receiver_text(node: ast.expr) -> str:
    return ast.unparse(node).lower()


def code_actions(code: Iterable[ast.AST]) -> set[str]:
    """IAM actions (``service:Operation``) that ``code`` (from ``function_code``) can call."""
    nodes = [node for unit in code for node in _runtime_nodes(unit)]
    clients = {
        node.args[0].value
        for node in nodes
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in SERVICES
    }
    methods = {
        node.func.attr
        for node in nodes
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and "client" in _receiver_text(node)
    }
    strings = {node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    names = {node.id for node in nodes if isinstance(node, ast.Name)} | {
        node.attr for node in nodes if isinstance(node, ast.Attribute)
    }
    actions = {
        f"{service}:{operation}"
        for service in clients
        for method, operation in operations(service).items()
        if method in methods or ("_" in method and method in strings)
    }
    for name, library_actions in LIBRARY_CALLS.items():
        if name in names:
            actions |= library_actions
    return actions


@cache
def sam_policy_templates() -> dict[str, Any]:
    """aws-sam-translator's policy templates (from the SAM CLI's venv, ``make sam-deps``)."""
    pattern = str(REPO / ".venv-sam/lib/python3*/site-packages/samtranslator/policy_templates_data/*.json")
    files = [f for f in glob.glob(pattern) if f.endswith("policy_templates.json")]
    if not files:
        raise FileNotFoundError(f"no aws-sam-translator policy templates under {pattern}: run `make sam-deps`")
    return json.loads(Path(files[0]).read_text())["Templates"]


def _expand(action: str) -> set[str]:
    service, _, pattern = action.partition(":")
    if not any(ch in pattern for ch in "*?"):
        return {action}
    return {f"{service}:{op}" for op in operations(service).values() if fnmatch.fnmatchcase(op, pattern)}


def _statements(policy: Any) -> Iterator[Mapping[str, Any]]:
    """The statements of one ``Policies`` entry: a SAM template, an inline policy, or an ``!If`` of them."""
    if isinstance(policy, Mapping) and "Fn::If" in policy:
        for branch in policy["Fn::If"][1:]:
            yield from _statements(branch)
    elif isinstance(policy, Mapping) and "Ref" in policy:
        return  # AWS::NoValue
    elif isinstance(policy, Mapping) and "Statement" in policy:
        yield from policy["Statement"]
    elif isinstance(policy, Mapping) and len(policy) == 1:
        (name,) = policy
        yield from sam_policy_templates()[name]["Definition"]["Statement"]
    else:
        raise ValueError(f"policy {policy!r}: only SAM policy templates and inline statements are checked")


def granted_actions(policies: Iterable[Any]) -> set[str]:
    """Every IAM action a function's ``Policies`` allow (wildcards expanded)."""
    actions: set[str] = set()
    for policy in policies:
        for statement in _statements(policy):
            assert statement.get("Effect", "Allow") == "Allow", statement
            listed = statement["Action"]
            for action in [listed] if isinstance(listed, str) else listed:
                actions |= _expand(action)
    return actions
