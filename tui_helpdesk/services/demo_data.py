"""The words of the demo desk (`services.demo`): people, companies, categories, articles and
ticket stories. Plain data only; `services.demo` decides how it is combined and when things
happen. All companies and addresses are fictional (`.example` domains, test phone ranges).
"""

from __future__ import annotations

from dataclasses import dataclass

# login, name, role, groups, skills, languages, capacity
AGENTS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], int], ...] = (
    ("sofia.marino", "Sofia Marino", "admin", ("L1",), ("network", "email"), ("en", "it"), 15),
    ("tom.becker", "Tom Becker", "agent", ("L1",), ("hardware", "windows"), ("en", "de"), 25),
    ("amara.okafor", "Amara Okafor", "agent", ("L1", "Billing Team"), ("billing",), ("en",), 25),
    ("lucas.moreau", "Lucas Moreau", "agent", ("L1",), ("email", "macos"), ("en", "fr"), 25),
    ("mei.tanaka", "Mei Tanaka", "agent", ("L1",), ("software", "sso"), ("en", "ja"), 20),
    ("jonas.berg", "Jonas Berg", "supervisor", ("L2",), ("network", "vpn"), ("en", "sv", "de"), 20),
    ("priya.nair", "Priya Nair", "agent", ("L2",), ("database", "software"), ("en",), 20),
    ("diego.fernandez", "Diego Fernández", "agent", ("L2",), ("email", "sso"), ("en", "es"), 20),
    (
        "elena.petrova",
        "Elena Petrova",
        "agent",
        ("L3", "SecOps"),
        ("linux", "security"),
        ("en",),
        15,
    ),
    ("kwame.mensah", "Kwame Mensah", "agent", ("L3",), ("network", "linux"), ("en", "fr"), 15),
    ("noor.haddad", "Noor Haddad", "supervisor", ("SecOps",), ("security",), ("en", "ar"), 15),
    ("claire.dubois", "Claire Dubois", "agent", ("Billing Team",), ("billing",), ("en", "fr"), 25),
)

# name, level, next level, lead, description
GROUPS: tuple[tuple[str, int | None, str | None, str, str], ...] = (
    ("L3", 3, None, "elena.petrova", "Engineering: platform and infrastructure experts"),
    ("L2", 2, "L3", "jonas.berg", "Second line: specialists for escalated tickets"),
    ("L1", 1, "L2", "sofia.marino", "Service desk: first contact for every request"),
    ("SecOps", None, None, "noor.haddad", "Security operations: phishing, incidents, access"),
    ("Billing Team", None, None, "claire.dubois", "Invoices, refunds and contracts"),
)

# path, default group, default priority (None: normal)
CATEGORIES: tuple[tuple[str, str | None, str | None], ...] = (
    ("Technical", "L1", None),
    ("Technical > Network", "L1", "high"),
    ("Technical > Email", "L1", None),
    ("Technical > Hardware", "L1", None),
    ("Technical > Software", "L1", None),
    ("Billing", "Billing Team", None),
    ("Billing > Invoices", "Billing Team", None),
    ("Billing > Refunds", "Billing Team", "low"),
    ("Account", "L1", None),
    ("Account > Access", "L1", None),
    ("Account > Password", "L1", None),
    ("Security", "SecOps", "high"),
    ("Security > Phishing", "SecOps", "high"),
    ("General > Question", "L1", "low"),
    ("General > Feature Request", "L2", "low"),
)

# country: phone prefix, national digits, language, first names, last names
COUNTRIES: dict[str, tuple[str, int, str, tuple[str, ...], tuple[str, ...]]] = {
    "IT": (
        "+39 02",
        8,
        "it",
        ("Giulia", "Marco", "Chiara", "Luca", "Francesca", "Niccolò"),
        ("Rossi", "Bianchi", "Esposito", "Romano", "Colombo", "Ricci"),
    ),
    "DE": (
        "+49 30",
        8,
        "de",
        ("Zoë", "Jürgen", "Anna", "Felix", "Lena", "Maximilian"),
        ("Müller", "Schmidt", "Schäfer", "Weiß", "Becker", "Hoffmann"),
    ),
    "ES": (
        "+34 91",
        7,
        "es",
        ("José", "Lucía", "Álvaro", "María", "Iñigo", "Carmen"),
        ("Álvarez", "García", "Martínez", "Núñez", "López", "Sánchez"),
    ),
    "FR": (
        "+33 1",
        8,
        "fr",
        ("Chloé", "Théo", "Amélie", "Hugo", "Léa", "François"),
        ("Lefèvre", "Martin", "Bernard", "Girard", "Dubois", "Moreau"),
    ),
    "PL": (
        "+48 22",
        7,
        "pl",
        ("Łukasz", "Agnieszka", "Paweł", "Zofia", "Michał", "Ewa"),
        ("Wójcik", "Kowalski", "Nowak", "Zieliński", "Wiśniewski", "Lewandowska"),
    ),
    "GB": (
        "+44 20 7946",
        4,
        "en",
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Sophie"),
        ("Smith", "Jones", "Taylor", "Brown", "Wilson", "O'Brien"),
    ),
    "US": (
        "+1 415 555 01",
        2,
        "en",
        ("Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan"),
        ("Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Clark"),
    ),
    "SE": (
        "+46 8",
        7,
        "sv",
        ("Astrid", "Björn", "Elsa", "Sven", "Maja", "Örjan"),
        ("Andersson", "Lindqvist", "Ström", "Håkansson", "Nilsson", "Berg"),
    ),
    "JP": (
        "+81 3",
        8,
        "ja",
        ("Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina"),
        ("Sato", "Suzuki", "Takahashi", "Watanabe", "Ito", "Kobayashi"),
    ),
    "BR": (
        "+55 11",
        8,
        "pt",
        ("João", "Ana", "Gabriel", "Beatriz", "Thiago", "Lívia"),
        ("Silva", "Santos", "Oliveira", "Conceição", "Araújo", "Gonçalves"),
    ),
}

REGION_OF = {
    "IT": "EMEA",
    "DE": "EMEA",
    "ES": "EMEA",
    "FR": "EMEA",
    "PL": "EMEA",
    "GB": "EMEA",
    "SE": "EMEA",
    "US": "AMER",
    "BR": "AMER",
    "JP": "APAC",
}

# name, email domain, segment, country
ORGANIZATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("Acme Logistics", "acme-logistics.example", "premium", "IT"),
    ("Brightwave Media", "brightwave.example", "standard", "GB"),
    ("Castello Foods", "castellofoods.example", "standard", "IT"),
    ("Danube Engineering", "danube-eng.example", "premium", "DE"),
    ("Elbe Versicherung", "elbe-vers.example", "enterprise", "DE"),
    ("Fjord Analytics", "fjord.example", "standard", "SE"),
    ("Granada Hoteles", "granadahoteles.example", "standard", "ES"),
    ("Harbor Health", "harborhealth.example", "enterprise", "US"),
    ("Iberia Textiles", "iberiatex.example", "standard", "ES"),
    ("Juniper Legal", "juniperlegal.example", "premium", "GB"),
    ("Kestrel Aviation", "kestrel-air.example", "premium", "US"),
    ("Lumière Studio", "lumiere-studio.example", "standard", "FR"),
    ("Mazowsze Bank", "mazowszebank.example", "enterprise", "PL"),
    ("Nordlicht Energie", "nordlicht.example", "standard", "DE"),
    ("Orchard Schools", "orchard-schools.example", "standard", "GB"),
    ("Pacific Rim Trading", "pacificrim.example", "premium", "JP"),
    ("Quercus Architects", "quercus.example", "standard", "IT"),
    ("Rio Verde Agro", "rioverde.example", "standard", "BR"),
    ("Sakura Robotics", "sakura-robotics.example", "premium", "JP"),
    ("Tamise Conseil", "tamise.example", "standard", "FR"),
    ("Umbra Security", "umbra-sec.example", "premium", "US"),
    ("Vistula Logistics", "vistula.example", "standard", "PL"),
    ("Westbrook Retail", "westbrook.example", "standard", "US"),
    ("Xanadu Games", "xanadu-games.example", "standard", "SE"),
    ("Yellowstone Outdoor", "yellowstone-outdoor.example", "standard", "US"),
    ("Zephyr Pharma", "zephyr-pharma.example", "premium", "FR"),
    ("Alpine Clinics", "alpineclinics.example", "premium", "DE"),
    ("Bairro Café", "bairrocafe.example", "standard", "BR"),
    ("Cobalt Software", "cobalt-soft.example", "standard", "PL"),
    ("Delta Ports", "deltaports.example", "premium", "IT"),
)

# Private customers without a company domain.
PERSONAL_DOMAINS = ("mail.example", "post.example")


@dataclass(frozen=True)
class Story:
    """One kind of ticket: what the customer writes and how the desk answers. It is one
    problem: every subject fits every detail, and the body, the questions and the fix are
    about that problem (a different problem is another story)."""

    category: str
    subjects: tuple[str, ...]  # {detail}; each fits every detail
    body: str  # {first}, {org}, {detail}; its third line is what a caller said on the phone
    details: tuple[str, ...]
    ask: str  # first reply when more information is needed
    answer: str  # the customer's answer
    fix: str  # the resolving reply
    note: str  # an internal note
    tags: tuple[str, ...] = ()
    weight: float = 1.0  # how often it happens, against the others


STORIES: tuple[Story, ...] = (
    Story(
        "Technical > Network",
        ("VPN drops every few minutes", "VPN disconnects when I work from {detail}"),
        "Hi,\n\nsince this morning the VPN disconnects every few minutes when I work from "
        "{detail}. Reconnecting works but the call drops each time.\n\nThanks,\n{first}",
        ("home", "the branch office", "a hotel"),
        "Thanks {first}. Could you send us the client log (Help > Export log) and tell us "
        "which VPN profile you use?",
        "Log attached. I'm on the 'Corporate-EU' profile.",
        "We pushed an updated profile with a shorter keepalive. Please reconnect once and "
        "let us know if the drops stop.",
        "Keepalive 60s on Corporate-EU is too long for some home routers; changed to 20s.",
        ("vpn",),
    ),
    Story(
        "Technical > Network",
        ("Wifi very slow in {detail}", "No network in {detail}"),
        "Hello,\n\nthe wifi in {detail} has been unusable since yesterday: pages time out "
        "and video calls freeze.\n\n{first} ({org})",
        ("meeting room 2B", "the Aurora meeting room", "the ground-floor offices"),
        "Sorry about that. Is it every device there or only laptops? Any error message?",
        "Every device, phones too.",
        "The access point there had fallen back to 2.4 GHz only. It has been replaced; "
        "speeds are back to normal on our tests.",
        "AP-3F-07 showing radio errors in the controller log. Replacement scheduled.",
        ("wifi",),
    ),
    Story(
        "Technical > Email",
        ("Emails to {detail} bounce", "Outgoing mail to {detail} rejected"),
        "Hi,\n\nevery email I send to {detail} comes back with 'relay access denied'. "
        "Internal mail works.\n\n{first}",
        ("our auditors", "a supplier", "gmail addresses"),
        "Could you forward one of the bounce messages to us as an attachment?",
        "Forwarded the bounce just now.",
        "The SPF record of your domain was missing the new relay. We added it; it can take "
        "up to an hour to propagate. Please try again later today.",
        "SPF lacks include for the new relay; DNS change done, TTL 3600.",
        ("email", "dns"),
    ),
    Story(
        "Technical > Email",
        ("Shared mailbox '{detail}' not visible", "Shared mailbox missing since the migration"),
        "Hello,\n\nthe '{detail}' shared mailbox is gone from my Outlook since the mailbox "
        "migration last week. Could you have a look?\n\nRegards,\n{first}",
        ("sales", "accounts", "support"),
        "Thanks. Which mail client and version are you using?",
        "Outlook on Windows, the version that came with the new laptop.",
        "Your permissions on the shared mailbox were lost in the migration; they are "
        "restored. Restart Outlook and the mailbox will show up again within a few minutes.",
        "Migration script skipped delegated mailbox permissions for some users.",
        ("email", "migration"),
        weight=0.5,
    ),
    Story(
        "Technical > Email",
        ("Calendar invites not arriving", "Meeting invitations missing since the migration"),
        "Hello,\n\nsince the mailbox migration last week, meeting invitations no longer "
        "reach me: I never got the one {detail}.\n\nRegards,\n{first}",
        ("for the weekly team call", "from our external auditors", "for Monday's board meeting"),
        "Thanks. Which mail client and version are you using?",
        "Outlook on Windows, the version that came with the new laptop.",
        "Your calendar permissions were lost in the migration; they are restored. Restart "
        "Outlook and new invitations will arrive as before.",
        "Migration script skipped calendar delegation for some users.",
        ("email", "calendar", "migration"),
        weight=0.5,
    ),
    Story(
        "Technical > Hardware",
        ("Laptop does not boot", "Laptop won't start"),
        "Hi,\n\nmy laptop {detail}. I have tried restarting twice.\n\n{first}, {org}",
        (
            "shows a black screen after the logo",
            "switches off right after the logo",
            "restarts in a loop before Windows starts",
        ),
        "Could you tell us the asset tag on the bottom of the laptop?",
        "Asset tag is NB-4471.",
        "A replacement laptop is ready at the front desk; your data is synced, just log in.",
        "Mainboard fault confirmed by diagnostics; swap under warranty.",
        ("hardware", "laptop"),
        weight=0.5,
    ),
    Story(
        "Technical > Hardware",
        ("Docking station: no external screen", "Docking station: {detail} stays black"),
        "Hi,\n\nthe {detail} stays black when my laptop is on the docking station. I have "
        "tried unplugging the dock twice.\n\n{first}, {org}",
        ("second monitor", "external screen", "left-hand monitor"),
        "Could you tell us the asset tag on the underside of the docking station?",
        "Asset tag is DK-2093.",
        "The docking station needed a firmware update, which we installed remotely. Plug "
        "the laptop in again and the screen will come up.",
        "Dock firmware 1.0.4 loses DisplayPort after sleep; updated to 1.1.",
        ("hardware", "dock"),
        weight=0.5,
    ),
    Story(
        "Technical > Hardware",
        ("Printer {detail} jams", "Paper jams in the printer {detail}"),
        "Hello,\n\nthe printer {detail} jams on every second page, the display says "
        "'Tray 2'. Could someone come by?\n\n{first}",
        ("on floor 3", "at reception", "in the warehouse"),
        "We'll send someone. Is the printer usable with Tray 1 in the meantime?",
        "Yes, tray 1 works.",
        "The pickup roller of tray 2 was worn and has been replaced.",
        "Ordered spare rollers for this model, two more units are due.",
        ("printer",),
        weight=0.6,
    ),
    Story(
        "Technical > Hardware",
        ("Need a new headset", "Headset broken"),
        "Hello,\n\nmy headset {detail}. Could I get a new one?\n\n{first}",
        ("has a broken microphone", "crackles on every call", "no longer charges"),
        "Sorry to hear it. Which model do you have, and would a wired one do?",
        "The wireless one from the welcome kit; wired is fine.",
        "A new headset is ready for you at the front desk; please bring the old one along.",
        "Two headsets of this model left in stock; reorder placed.",
        ("hardware", "headset"),
        weight=0.4,
    ),
    Story(
        "Technical > Software",
        ("{detail} crashes on start", "{detail} crashes since the update"),
        "Hi,\n\n{detail} crashes immediately after the splash screen since the last update."
        "\n\nThanks,\n{first}",
        ("the ERP client", "the CAD viewer", "the reporting tool"),
        "Thanks. Could you run the repair from Software Center and tell us if it helps?",
        "Repair ran, still crashing.",
        "The update shipped a broken plug-in. We rolled back to the previous version on your "
        "machine and paused the rollout.",
        "Vendor ticket opened for the plug-in crash; rollout paused for all.",
        ("software", "update"),
    ),
    Story(
        "Technical > Software",
        ("Excel macros disabled", "Macros blocked in {detail}"),
        "Hello,\n\nsince Monday Excel says 'Macros have been disabled' when I open {detail} "
        "from the team share.\n\n{first}",
        ("the monthly report", "the budget workbook", "the sales forecast"),
        "Does it happen with every file on the team share, or only with this one?",
        "Every file on the team share.",
        "The new team share is now a trusted location, so its macros run again. Please "
        "open the file once more.",
        "Group policy for trusted locations did not include the new share path.",
        ("office", "macros"),
        weight=0.5,
    ),
    Story(
        "Technical > Software",
        ("Licence expired message", "{detail} says my licence has expired"),
        "Hello,\n\nsince Monday {detail} says 'Your licence has expired' and opens "
        "read-only.\n\n{first}",
        ("Excel", "the PDF editor", "the CAD viewer"),
        "Did you change laptops recently? A screenshot of the message would help too.",
        "Yes, I got a new laptop last week. Screenshot attached.",
        "Your licence was still bound to your old laptop; it has been reassigned. Restart "
        "the application and sign in again.",
        "Licence still bound to the old device; reassigned in the licence portal.",
        ("office", "licence"),
        weight=0.5,
    ),
    Story(
        "Account > Password",
        ("Password reset", "Locked out of my account"),
        "Hi,\n\nI {detail} and now my account is locked. Could you reset my password?\n\n{first}",
        ("forgot my password after the holidays", "typed the old password too many times"),
        "We can help. To verify it's you, please confirm the last four digits of your phone "
        "number on file.",
        "It ends in the digits you have.",
        "Your account is unlocked and a reset link was sent to your phone. It is valid for "
        "one hour.",
        "Identity checked by callback on the number on file.",
        ("password",),
    ),
    Story(
        "Account > Access",
        ("Access to {detail}", "Please grant me access to {detail}"),
        "Hello,\n\ncould you grant me access to {detail}? My manager approved it.\n\n{first}",
        ("the finance share", "the project wiki", "the CRM"),
        "Could you ask your manager to confirm the request by replying here?",
        "My manager replied to the thread, approved.",
        "Access granted; it may take 15 minutes until you see it.",
        "Approval received from the manager by mail; added to the access group.",
        ("access",),
    ),
    Story(
        "Billing > Invoices",
        ("Invoice {detail} is wrong", "Wrong seat count on invoice {detail}"),
        "Hi,\n\nthe invoice {detail} bills 40 seats but we only have 32. Could you correct "
        "it?\n\n{first}, {org}",
        ("INV-2026-0412", "INV-2026-0977", "INV-2026-1130"),
        "Thanks {first}, we are checking the seat count for your contract. Could you send "
        "the purchase order number?",
        "PO number is 4500-1187.",
        "A corrected invoice has been issued and sent to your accounts payable address.",
        "Seat reduction of last quarter was not synced to billing.",
        ("invoice",),
    ),
    Story(
        "Billing > Refunds",
        ("Refund for a duplicate payment", "Refund request: {detail} paid twice"),
        "Hello,\n\nwe paid {detail} twice by mistake. Could you refund the second payment?"
        "\n\n{first}",
        ("the annual fee", "the March invoice"),
        "Could you send us the bank reference of both transfers?",
        "References attached.",
        "The refund has been approved and will reach your account in 3-5 business days.",
        "Duplicate confirmed in the ledger; refund approved by finance.",
        ("refund",),
    ),
    Story(
        "Security > Phishing",
        ("Phishing mail posing as {detail}", "Did I click a phishing link?"),
        "Hi,\n\nI received a mail pretending to be from {detail} asking me to log in. I clicked "
        "the link before I noticed. What should I do?\n\n{first}",
        ("IT support", "our CEO", "the bank"),
        "Thanks for reporting quickly. Did you enter your password on the page?",
        "Yes, I typed it once.",
        "We reset your password, ended all sessions and blocked the sender. No other "
        "activity was seen on your account.",
        "Sign-in logs checked: no foreign logins after the click. Sender domain blocked.",
        ("phishing", "security"),
    ),
    Story(
        "Security",
        ("Lost laptop", "Laptop lost {detail}"),
        "Hello,\n\nI lost my work laptop {detail} yesterday. Please advise.\n\n{first}, {org}",
        ("on the train", "at the airport", "in a taxi"),
        "We are on it. When did you last use the laptop, and was it locked?",
        "Yesterday evening, and yes it was locked.",
        "The laptop has been wiped remotely and your credentials rotated.",
        "Remote wipe confirmed by the MDM console.",
        ("security", "incident"),
        weight=0.5,
    ),
    Story(
        "Security",
        ("Unknown login alert", "Alert: sign-in from {detail}"),
        "Hello,\n\nI got an alert about a sign-in to my account from {detail}. It wasn't "
        "me. Please advise.\n\n{first}, {org}",
        ("another country", "an unknown device", "a city I have never been to"),
        "Thanks for telling us at once. Have you entered your password on a page you "
        "reached from a mail lately?",
        "Not that I know of.",
        "We ended all sessions, reset your password and blocked the address the sign-in "
        "came from. Nothing else happened on your account.",
        "One foreign sign-in in the logs; sessions revoked, password reset, IP blocked.",
        ("security", "incident"),
        weight=0.5,
    ),
    Story(
        "General > Question",
        ("How do I {detail}?", "Quick question: how to {detail}"),
        "Hi,\n\nquick question: how do I {detail}?\n\nThanks,\n{first}",
        ("add a signature in webmail", "book a meeting room", "connect to the guest wifi"),
        "Good question! Is this on your laptop or on your phone?",
        "On my laptop.",
        "Here is how: the knowledge article we linked walks you through it step by step. "
        "Let us know if anything is unclear.",
        "Common question; linked the knowledge article.",
        ("how-to",),
    ),
    Story(
        "General > Feature Request",
        ("Feature request: {detail}", "Could you {detail}?"),
        "Hello,\n\nit would help us a lot if you could {detail}.\n\nBest,\n{first}, {org}",
        ("export reports as CSV", "add dark mode to the portal", "support SSO with our IdP"),
        "Thanks for the suggestion. How many people on your side would use it?",
        "About twenty people every week.",
        "We've added this to our roadmap and will let you know when it ships.",
        "Logged for the product team; third request this quarter.",
        ("feature-request",),
    ),
)

CUSTOMER_NUDGES = (
    "Any news on this?",
    "Hi, just checking in: this is still blocking us.",
    "Could someone please look at this today?",
)
STILL_BROKEN = (
    "Unfortunately it happened again this morning.",
    "Sorry, it is still not working for me.",
)
ACKNOWLEDGEMENTS = (
    "Thanks {first}, we're looking into it.",
    "Hi {first}, thanks for letting us know: I'm on it and will update you shortly.",
    "Thanks {first}, we've got your request and are checking it now.",
)
# Answers to the satisfaction survey, by score (a customer writes the number, sometimes words).
SURVEY_ANSWERS: dict[int, tuple[str, ...]] = {
    5: ("5", "5 - quick and friendly, thank you!", "5. Sorted in minutes, great help.", "5/5"),
    4: ("4", "4 - all good, though it took a day.", "4, good service, thanks."),
    3: ("3", "3 - it works now, but I had to explain it twice."),
    2: ("2 - it took far too long to hear back.", "2"),
    1: ("1 - three days without an answer.", "1"),
}
SURVEY_SCORE_WEIGHTS = {5: 46, 4: 30, 3: 12, 2: 7, 1: 5}
NO_ANSWER = "We haven't heard back, so we're resolving this for now. Just reply to reopen it."
HOLD_NOTES = (
    "Waiting on the vendor's answer before we can continue.",
    "Parts ordered; the courier is due in a few days.",
    "Waiting for the carrier to repair the line.",
)
ESCALATION_NOTES = (
    "Escalating: needs someone with access to the servers.",
    "Beyond first-line scope; handing over with the logs attached.",
)
REOPEN_REASON = "customer called back: the problem came back"

# category, title, tags, steps; the article body is built from these.
ARTICLES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Technical > Network",
        "Connect to the VPN",
        ("vpn",),
        (
            "Install the VPN client from Software Center.",
            "Choose the Corporate-EU profile.",
            "Sign in with your usual account and approve the prompt on your phone.",
        ),
    ),
    (
        "Technical > Network",
        "VPN keeps disconnecting",
        ("vpn", "troubleshooting"),
        (
            "Update the VPN client.",
            "Switch from wifi to cable if you can.",
            "Export the log (Help > Export log) and attach it to your ticket.",
        ),
    ),
    (
        "Technical > Network",
        "Use the guest wifi",
        ("wifi",),
        (
            "Join the 'Guest' network.",
            "Open a browser and accept the terms.",
            "Ask reception for a code if the page asks for one.",
        ),
    ),
    (
        "Technical > Network",
        "Slow network: what to check first",
        ("wifi", "troubleshooting"),
        (
            "Check whether colleagues in the same room are affected.",
            "Restart your laptop.",
            "Note the room and time, then open a ticket.",
        ),
    ),
    (
        "Technical > Email",
        "Set up mail on your phone",
        ("email", "mobile"),
        (
            "Install the mail app.",
            "Add a work account with your address.",
            "Approve the device in the security prompt.",
        ),
    ),
    (
        "Technical > Email",
        "Why did my email bounce?",
        ("email",),
        (
            "Read the first lines of the bounce: they name the reason.",
            "Check the address for typos.",
            "Forward the bounce as an attachment to the desk.",
        ),
    ),
    (
        "Technical > Email",
        "Open a shared mailbox",
        ("email",),
        (
            "Ask your manager to approve access.",
            "Restart your mail client after approval.",
            "The mailbox appears in the folder list.",
        ),
    ),
    (
        "Technical > Email",
        "Add an email signature",
        ("email", "how-to"),
        ("Open Settings > Mail > Signature.", "Paste the company template.", "Save."),
    ),
    (
        "Technical > Email",
        "Report spam without clicking",
        ("email", "security"),
        ("Select the message.", "Use the 'Report' button.", "Delete the message."),
    ),
    (
        "Technical > Hardware",
        "Docking station troubleshooting",
        ("hardware", "dock"),
        (
            "Unplug the dock's power for ten seconds.",
            "Connect the laptop again.",
            "Update the dock firmware from Software Center.",
        ),
    ),
    (
        "Technical > Hardware",
        "Request a new headset or mouse",
        ("hardware",),
        (
            "Open a ticket in Hardware.",
            "Say which model you need.",
            "Pick it up at the front desk when we tell you.",
        ),
    ),
    (
        "Technical > Hardware",
        "Clear a printer jam",
        ("printer",),
        (
            "Open the tray named on the display.",
            "Pull the paper out gently.",
            "Close the tray; the job resumes.",
        ),
    ),
    (
        "Technical > Hardware",
        "Laptop will not start",
        ("hardware", "troubleshooting"),
        (
            "Hold the power button for 15 seconds.",
            "Connect the charger.",
            "If the screen stays black, call the desk.",
        ),
    ),
    (
        "Technical > Software",
        "Install software from Software Center",
        ("software",),
        ("Open Software Center.", "Search for the application.", "Click Install."),
    ),
    (
        "Technical > Software",
        "Repair an application that crashes",
        ("software", "troubleshooting"),
        ("Close the application.", "Run Repair from Software Center.", "Restart and try again."),
    ),
    (
        "Technical > Software",
        "Enable macros for trusted reports",
        ("office",),
        (
            "Save the report on the team share.",
            "Open it from there.",
            "Macros from trusted locations run without prompts.",
        ),
    ),
    (
        "Technical > Software",
        "Update your laptop",
        ("software", "update"),
        ("Save your work.", "Open Settings > Update.", "Install and restart."),
    ),
    (
        "Account > Password",
        "Reset your password",
        ("password",),
        (
            "Go to the self-service portal.",
            "Confirm the code sent to your phone.",
            "Choose a new passphrase of at least 14 characters.",
        ),
    ),
    (
        "Account > Password",
        "Choose a good passphrase",
        ("password", "security"),
        (
            "Use four or more unrelated words.",
            "Never reuse a work password elsewhere.",
            "Store it in the password manager.",
        ),
    ),
    (
        "Account > Password",
        "Account locked: what now?",
        ("password",),
        (
            "Wait 15 minutes; the lock lifts by itself.",
            "Use the self-service reset.",
            "Call the desk if it is urgent.",
        ),
    ),
    (
        "Account > Access",
        "Request access to a shared folder",
        ("access",),
        ("Open a ticket in Access.", "Name the folder.", "Your manager approves by reply."),
    ),
    (
        "Account > Access",
        "Set up multi-factor authentication",
        ("access", "mfa"),
        (
            "Install the authenticator app.",
            "Scan the code on the enrolment page.",
            "Keep the recovery codes safe.",
        ),
    ),
    (
        "Account > Access",
        "New starter checklist",
        ("access", "onboarding"),
        (
            "Manager requests accounts a week ahead.",
            "Laptop is prepared by the desk.",
            "First login happens with a desk agent.",
        ),
    ),
    (
        "Account > Access",
        "Leaving the company: returning equipment",
        ("offboarding",),
        (
            "Return laptop and badge on the last day.",
            "Mail is kept for 30 days.",
            "Personal files should be removed first.",
        ),
    ),
    (
        "Billing > Invoices",
        "Read your invoice",
        ("invoice",),
        (
            "The seat count is on the first page.",
            "Usage charges follow.",
            "Taxes are listed per country.",
        ),
    ),
    (
        "Billing > Invoices",
        "Get a copy of an invoice",
        ("invoice",),
        ("Open the billing portal.", "Choose the month.", "Download the PDF."),
    ),
    (
        "Billing > Invoices",
        "Change the billing address",
        ("invoice",),
        (
            "Open a ticket in Billing.",
            "Give the new address and VAT number.",
            "The next invoice uses it.",
        ),
    ),
    (
        "Billing > Refunds",
        "How refunds work",
        ("refund",),
        (
            "Refunds are approved by finance.",
            "They take 3-5 business days.",
            "You get an email when the money is sent.",
        ),
    ),
    (
        "Billing > Refunds",
        "Paid twice? Ask for a refund",
        ("refund",),
        (
            "Collect both bank references.",
            "Open a ticket in Refunds.",
            "We confirm the duplicate and refund it.",
        ),
    ),
    (
        "Security > Phishing",
        "Recognise a phishing mail",
        ("phishing", "security"),
        (
            "Check the sender's real address.",
            "Hover over links before clicking.",
            "When in doubt, report it.",
        ),
    ),
    (
        "Security > Phishing",
        "I clicked a phishing link",
        ("phishing", "security"),
        (
            "Disconnect from the network.",
            "Call the desk at once.",
            "Change your password from another device.",
        ),
    ),
    (
        "Security",
        "Lost or stolen device",
        ("security", "incident"),
        (
            "Call the desk immediately.",
            "We lock and wipe the device.",
            "Report the theft to the police if needed.",
        ),
    ),
    (
        "Security",
        "Unknown login alert",
        ("security",),
        ("Do not ignore it.", "Reset your password.", "Tell the desk the time of the alert."),
    ),
    (
        "Security",
        "Working safely while travelling",
        ("security", "travel"),
        (
            "Use the VPN on every public network.",
            "Keep your screen locked.",
            "Never leave devices unattended.",
        ),
    ),
    (
        "General > Question",
        "Book a meeting room",
        ("how-to",),
        ("Open the calendar.", "Add the room as a participant.", "Check that it accepted."),
    ),
    (
        "General > Question",
        "Contact the help desk",
        ("how-to",),
        (
            "Write to the desk address.",
            "Call the desk number for urgent matters.",
            "Use chat on the portal during office hours.",
        ),
    ),
    (
        "General > Question",
        "Support hours and holidays",
        ("how-to",),
        (
            "We answer 08:00-18:00 on working days.",
            "Premium customers are answered around the clock by an on-call agent.",
            "Holidays are listed on the portal.",
        ),
    ),
    (
        "General > Feature Request",
        "How we handle feature requests",
        ("feature-request",),
        (
            "Open a ticket in Feature Request.",
            "We review requests every month.",
            "You hear back when it is planned.",
        ),
    ),
    (
        "General > Feature Request",
        "Export reports as CSV",
        ("feature-request", "reports"),
        ("Open the report.", "Choose Export.", "Pick CSV."),
    ),
    (
        "Technical",
        "Before you open a ticket",
        ("how-to",),
        ("Restart the device.", "Note the exact error message.", "Add a screenshot if you can."),
    ),
)
