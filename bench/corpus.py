"""Word material for generated desks: subjects, sentences and names, some of them non-ASCII.

Kept small and combined at random, so a million tickets read as varied without shipping
megabytes of text.
"""

from __future__ import annotations

CATEGORY_TREE: dict[str, list[str]] = {
    "Technical": ["Network", "Email", "Hardware", "Software", "Printing"],
    "Account": ["Access", "Password"],
    "Billing": ["Invoices", "Refunds"],
    "Security": [],
    "Feature request": [],
}

SUBJECTS: dict[str, list[str]] = {
    "Network": [
        "VPN drops every few minutes",
        "No network on the 3rd floor",
        "Wi-Fi slow in meeting room",
        "Cannot reach the file server",
        "DNS fails for internal hosts",
    ],
    "Email": [
        "Emails stuck in the outbox",
        "Shared mailbox not syncing",
        "Calendar invites arrive twice",
        "Attachments over 10 MB rejected",
    ],
    "Hardware": [
        "Laptop will not boot",
        "Docking station: no external screen",
        "Keyboard keys sticking",
        "Battery drains overnight",
    ],
    "Software": [
        "Accounting app crashes on start",
        "Update fails with error 0x80070005",
        "Licence expired message",
        "Export to PDF produces blank pages",
    ],
    "Printing": [
        "Printer jams on every job",
        "Cannot add the office printer",
        "Scans never reach my inbox",
    ],
    "Access": [
        "Need access to the sales folder",
        "Account locked after holiday",
        "New starter needs accounts",
    ],
    "Password": [
        "Password reset link expired",
        "Cannot change password: policy error",
        "Two-factor codes rejected",
    ],
    "Invoices": [
        "Invoice shows the wrong VAT number",
        "Duplicate invoice received",
        "Need invoices for last quarter",
    ],
    "Refunds": ["Refund not received", "Charged twice for one order"],
    "Security": ["Suspicious login alert", "Phishing email received", "Lost company phone"],
    "Feature request": [
        "Dark mode for the portal",
        "Export tickets to spreadsheet",
        "Single sign-on with our directory",
    ],
}

SENTENCES = [
    "Since this morning it no longer works.",
    "It worked fine until the update last week.",
    "I already restarted the computer twice.",
    "Several colleagues in my team have the same problem.",
    "This is blocking our month-end close.",
    "Could you please have a look as soon as possible?",
    "The error message says access is denied.",
    "Attached is a screenshot of what I see.",
    "We are working from the branch office today.",
    "Il problema si presenta solo con la connessione remota.",
    "Das Problem tritt seit gestern Nachmittag auf.",
    "Le problème persiste après la réinstallation.",
    "El cliente necesita una solución antes del viernes.",
    "Thanks for the quick answer — it works again 🎉.",
    "Please find the log excerpt below.",
    "Can you confirm whether this is a known issue?",
]

REPLIES = [
    "Thanks for reporting this. Could you tell us the exact time it last happened?",
    "We have restarted the service on our side; please try again.",
    "This is a known issue and a fix is being rolled out today.",
    "I have reset the account; you will receive an email with the next steps.",
    "Could you send us the output of the diagnostics tool?",
    "I am escalating this to our second-level team.",
    "The change has been applied. Let us know if anything is still wrong.",
]

NOTES = [
    "Customer on old firmware; check after the upgrade.",
    "Same root cause as last week's outage.",
    "Called the customer, no answer. Will retry tomorrow.",
    "Vendor case opened, waiting for their reply.",
    "Looks like a duplicate of an earlier request.",
]

FIRST_NAMES = [
    "Anna",
    "Marco",
    "Zoë",
    "José",
    "Łukasz",
    "Chloé",
    "Søren",
    "Giulia",
    "Jürgen",
    "Aiko",
    "Priya",
    "Oluwaseun",
    "Mei",
    "Noah",
    "Emma",
    "Luca",
    "Sofía",
    "Mateo",
    "Élodie",
    "Björn",
    "Ingrid",
    "Tomás",
    "Nadia",
    "Omar",
]
LAST_NAMES = [
    "Rossi",
    "Müller",
    "Álvarez",
    "Wójcik",
    "Dubois",
    "Jensen",
    "Bianchi",
    "Schäfer",
    "Tanaka",
    "Patel",
    "Adeyemi",
    "Chen",
    "Smith",
    "García",
    "Lefèvre",
    "Andersson",
    "Novak",
    "Kowalski",
    "O'Brien",
    "Haddad",
]
COMPANY_WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Gringotts",
    "Nakatomi",
    "Oscorp",
    "Aperture",
    "Massive",
    "Dunder",
    "Pied",
    "Monarch",
]
COMPANY_SUFFIXES = ["Ltd", "S.p.A.", "GmbH", "Inc", "SARL", "AB", "Group", "Labs"]
REGIONS = ["EMEA", "Americas", "APAC"]
PHONE_PREFIXES = [
    "+3902",
    "+3906",
    "+4930",
    "+4989",
    "+3314",
    "+4420",
    "+1415",
    "+1212",
    "+3491",
    "+8133",
]
