"""The generated desk's reference data: groups, agents, categories, organizations, contacts
and knowledge articles, scaled from the ticket count. bench.generate loads it first; ticket
parts (bench.tickets) get the `Reference` they need of it.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from bench import corpus
from bench.rows import CHUNK, Formats, Writer

TAG_POOL = [
    "vip",
    "outage",
    "regression",
    "billing-dispute",
    "onboarding",
    "hardware-swap",
    "known-issue",
    "needs-info",
    "partner",
    "gdpr",
]


@dataclass(frozen=True)
class Sizes:
    tickets: int
    contacts: int
    organizations: int
    articles: int
    agents: int

    @classmethod
    def for_tickets(cls, tickets: int) -> Sizes:
        scale = tickets / 1_000_000
        return cls(
            tickets=tickets,
            contacts=max(100, int(200_000 * scale)),
            organizations=max(20, int(4_000 * scale)),
            articles=max(40, int(100_000 * scale)),
            agents=max(12, int(400 * scale)),
        )


@dataclass
class Reference:
    """What ticket parts need to know of the reference data."""

    leaves: list[tuple[int, str]]  # (category id, leaf name)
    leaf_group: dict[int, int]
    group_level: dict[int, int | None]
    members: dict[int, list[int]]
    contact_org: list[int | None]  # index = contact id
    org_segment: dict[int, str]
    group_name: dict[int, str]
    leaf_path: dict[int, str]  # category id -> "Top > Leaf" (what rules match on)


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum()) or "x"


def _write_contacts(
    w: Writer, columns: tuple[str, ...], rows: list[tuple[Any, ...]], rng: random.Random
) -> None:
    """Contacts with their identity rows: the primary email and phone, and for one contact
    in twenty a second (mobile) number."""
    w.write("contacts", columns, rows)
    w.write("contact_emails", ("email", "contact_id"), [(r[2], r[0]) for r in rows])
    phones = [(r[0], r[3]) for r in rows]
    phones += [
        (r[0], f"+3933{rng.randint(10000000, 99999999)}") for r in rows if rng.random() < 0.05
    ]
    w.write("contact_phones", ("contact_id", "phone"), phones)


def load_reference(
    w: Writer, rng: random.Random, sizes: Sizes, start: int, end: int, fmt: Formats
) -> Reference:
    """Groups, agents, categories, organizations, contacts and articles."""
    created = fmt.ts(start)
    groups = [
        (1, "L1 Service Desk", 1),
        (2, "L2 Specialists", 2),
        (3, "L3 Engineering", 3),
        (4, "SecOps", None),
        (5, "Billing Team", None),
    ]
    members: dict[int, list[int]] = {g[0]: [] for g in groups}
    agents, memberships, skills = [], [], []
    for i in range(1, sizes.agents + 1):
        first, last = rng.choice(corpus.FIRST_NAMES), rng.choice(corpus.LAST_NAMES)
        role = "admin" if i == 1 else ("supervisor" if i <= 5 else "agent")
        agents.append(
            (
                i,
                f"agent{i}",
                f"{first} {last}",
                f"agent{i}@desk.example",
                role,
                fmt.bool(True),
                "available",
                25,
                fmt.json(["en"]),
                None,
                created,
            )
        )
        group = (1, 1, 1, 1, 1, 2, 2, 2, 3, 4 + i % 2)[i % 10]
        members[group].append(i)
        for skill in rng.sample(
            ["network", "email", "hardware", "billing", "security", "italian", "german", "french"],
            2,
        ):
            skills.append((i, skill))
    for ids in members.values():
        if not ids:
            ids.append(1)
    memberships = [(gid, aid) for gid, ids in members.items() for aid in ids]
    w.write(
        "agents",
        (
            "id",
            "login",
            "name",
            "email",
            "role",
            "active",
            "presence",
            "capacity",
            "languages",
            "timezone",
            "created_at",
        ),
        agents,
    )
    next_level = {1: 2, 2: 3}
    # Written top level first: each group's next level must exist when it arrives.
    w.write(
        "groups",
        ("id", "name", "level", "next_level_id", "lead_id", "email", "description", "created_at"),
        [
            (gid, name, level, next_level.get(gid), members[gid][0], None, None, created)
            for gid, name, level in sorted(groups, key=lambda g: -(g[2] or 0))
        ],
    )
    w.write("group_members", ("group_id", "agent_id"), memberships)
    w.write("agent_skills", ("agent_id", "skill"), skills)

    categories, leaves, leaf_group, leaf_path = [], [], {}, {}
    ids = itertools.count(1)
    for top, children in corpus.CATEGORY_TREE.items():
        top_id = next(ids)
        group = {"Billing": 5, "Security": 4}.get(top, 1)
        categories.append((top_id, top, top, None, group, None))
        if not children:
            leaves.append((top_id, top))
            leaf_group[top_id] = group
            leaf_path[top_id] = top
        for child in children:
            cid = next(ids)
            categories.append((cid, child, f"{top} > {child}", top_id, group, None))
            leaves.append((cid, child))
            leaf_group[cid] = group
            leaf_path[cid] = f"{top} > {child}"
    w.write(
        "categories",
        ("id", "name", "path", "parent_id", "default_group_id", "default_priority"),
        categories,
    )

    orgs, domains, org_segment = [], [], {}
    for i in range(1, sizes.organizations + 1):
        word = rng.choice(corpus.COMPANY_WORDS)
        segment = rng.choices(["standard", "premium", "enterprise"], [70, 25, 5])[0]
        org_segment[i] = segment
        orgs.append(
            (
                i,
                f"{word} {rng.choice(corpus.COMPANY_SUFFIXES)} #{i}",
                segment,
                None,
                rng.choice(corpus.REGIONS),
                None,
                created,
            )
        )
        domains.append((f"{word.lower()}{i}.example", i))
    w.write(
        "organizations",
        ("id", "name", "segment", "sla_policy", "region", "notes", "created_at"),
        orgs,
    )
    w.write("organization_domains", ("domain", "organization_id"), domains)

    contact_org: list[int | None] = [None]
    rows: list[tuple[Any, ...]] = []
    contact_columns = (
        "id",
        "name",
        "email",
        "phone",
        "organization_id",
        "language",
        "vip",
        "notes",
        "created_at",
    )
    for i in range(1, sizes.contacts + 1):
        first, last = rng.choice(corpus.FIRST_NAMES), rng.choice(corpus.LAST_NAMES)
        org = rng.randint(1, sizes.organizations) if rng.random() < 0.9 else None
        contact_org.append(org)
        domain = domains[org - 1][0] if org else "mail.example"
        rows.append(
            (
                i,
                f"{first} {last}",
                f"{_ascii(first)}.{_ascii(last)}.{i}@{domain}",
                f"{rng.choice(corpus.PHONE_PREFIXES)}{rng.randint(1000000, 9999999)}",
                org,
                None,
                fmt.bool(rng.random() < 0.02),
                None,
                created,
            )
        )
        if len(rows) >= CHUNK:
            _write_contacts(w, contact_columns, rows, rng)
            rows = []
    _write_contacts(w, contact_columns, rows, rng)

    article_columns = (
        "id",
        "title",
        "body",
        "category_id",
        "tags",
        "visibility",
        "status",
        "author_id",
        "source_ticket_id",
        "helpful",
        "not_helpful",
        "created_at",
        "updated_at",
    )
    rows = []
    for i in range(1, sizes.articles + 1):
        cat_id, leaf = rng.choice(leaves)
        title = f"How to fix: {rng.choice(corpus.SUBJECTS[leaf]).lower()} ({i})"
        body = (
            "## Symptoms\n\n"
            + " ".join(rng.sample(corpus.SENTENCES, 3))
            + "\n\n## Resolution\n\n"
            + " ".join(rng.sample(corpus.REPLIES, 3))
        )
        when = fmt.ts(rng.randint(start, end))
        rows.append(
            (
                i,
                title,
                body,
                cat_id,
                fmt.json(rng.sample(TAG_POOL, 2)),
                "internal",
                "published" if rng.random() < 0.85 else "draft",
                1,
                None,
                rng.randint(0, 50),
                rng.randint(0, 5),
                when,
                when,
            )
        )
        if len(rows) >= CHUNK:
            w.write("articles", article_columns, rows)
            rows = []
    w.write("articles", article_columns, rows)
    return Reference(
        leaves=leaves,
        leaf_group=leaf_group,
        group_level={g[0]: g[2] for g in groups},
        members=members,
        contact_org=contact_org,
        org_segment=org_segment,
        group_name={g[0]: g[1] for g in groups},
        leaf_path=leaf_path,
    )
