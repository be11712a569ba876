"""AC2xx: async resources (sessions, clients, pools, files) that are never closed."""

from __future__ import annotations
