"""``cxlens admin``: set up a server's users and workspaces from a shell."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cxlens.cli_common import AsJson, Home, emit_json, out
from cxlens.errors import UserError

admin_app = typer.Typer(help="Set up the server's users and workspaces without a browser.",
                        no_args_is_help=True)


def _app_db(home: Path | None) -> Any:
    from cxlens.web import db
    from cxlens.web.settings import WebSettings

    settings = WebSettings.load(home=home)
    db.migrate(settings.db_path)
    return settings, db.connect(settings.db_path)


@admin_app.command("create-user")
def admin_create_user(
    email: Annotated[str, typer.Argument(help="The user's e-mail address (their sign-in).")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (first line).")] = False,
    home: Home = None,
    as_json: AsJson = False,
) -> None:
    """Create a user who signs in with e-mail and password."""
    from cxlens.web.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        raise UserError("no password given", hint="pipe it in with --password-stdin")
    _, con = _app_db(home)
    try:
        user = create_user(con, email, password)
    finally:
        con.close()
    if as_json:
        emit_json({"ok": True, "id": user.id, "email": user.email})
    else:
        out.print(f"user {user.email} created")


@admin_app.command("create-workspace")
def admin_create_workspace(
    slug: Annotated[str, typer.Argument(help="Short name in URLs: lower-case, digits, dashes.")],
    owner: Annotated[str, typer.Option(help="E-mail of an existing user who will own it.")],
    name: Annotated[str | None, typer.Option(help="Display name [default: the slug].")] = None,
    engine: Annotated[str | None, typer.Option(
        help="What its pages and API compute on: duckdb or spark [default: the server's, "
             "spark when $CXLENS_SPARK is set]; owners change it on the Settings page.")]
    = None,
    home: Home = None,
    as_json: AsJson = False,
) -> None:
    """Create a workspace (its folder, warehouse and write key) owned by a user."""
    from cxlens.web.accounts import user_by_email
    from cxlens.web.workspaces import ENGINES, create_workspace, set_engine

    settings, con = _app_db(home)
    try:
        user = user_by_email(con, owner)
        if user is None:
            raise UserError(f"no user {owner}",
                            hint=f"create it first: cxlens admin create-user {owner}")
        if engine is not None and engine not in ENGINES:
            raise UserError(f"unknown engine {engine!r}", hint="use --engine duckdb or spark")
        ws, key = create_workspace(con, settings.workspaces_dir, slug, name or slug, user)
        if engine is not None:
            set_engine(con, ws, engine)
    finally:
        con.close()
    if as_json:
        emit_json({"ok": True, "slug": ws.slug, "name": ws.name, "path": str(ws.path),
                   "engine": engine, "write_key": key})
    else:
        out.print(f"workspace {ws.slug} created at {ws.path}")
        out.print(f"write key (shown once): {key}")
