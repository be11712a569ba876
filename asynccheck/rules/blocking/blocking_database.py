"""AC106: a synchronous database driver on the loop."""

from __future__ import annotations

from asynccheck.rules.base import Example
from asynccheck.rules.blocking.base import BlockingCall


class BlockingDatabase(BlockingCall):
    """Synchronous database drivers block the loop for every query and connection. Use an
    async driver (asyncpg, aiosqlite, redis.asyncio, motor) or run the work in a thread."""

    code = "AC106"
    name = "blocking-database"
    message = "{call}() is a blocking database call; use an async driver (asyncpg, aiosqlite, ...)"
    sync_message = (
        "{call}() is a blocking database call on the loop; hand it to loop.run_in_executor() "
        "or move it to a task with an async driver"
    )
    bad = (
        Example("import sqlite3\nasync def f():\n    db = sqlite3.connect('x.db')"),
        Example("import psycopg2\nasync def f(dsn):\n    return psycopg2.connect(dsn)"),
        Example("import redis\nasync def f():\n    r = redis.Redis()\n"),
        Example("import boto3\nasync def f():\n    s3 = boto3.client('s3')"),
    )
    good = (
        Example("import aiosqlite\nasync def f():\n    async with aiosqlite.connect('x') as db:\n        pass"),
        Example("import redis.asyncio as redis\nasync def f():\n    r = redis.Redis()"),
        Example("import sqlite3\ndef f():\n    return sqlite3.connect('x.db')"),
        Example("import asyncpg\nasync def f(dsn):\n    return await asyncpg.connect(dsn)"),
    )  # fmt: skip
