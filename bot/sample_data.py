"""The sample data `baton seed` and `baton demo` draw from: word lists, products, phrases, conversation
scenarios, and the well-known demo customer Dana Whitfield (the `FEATURED_*` constants, which `baton
demo` and the tests rely on). Only data: the generator that turns it into rows is `bot.seed`.
"""

from __future__ import annotations

from decimal import Decimal

# --------------------------------------------------------------------------- the featured customer

FEATURED_NAME = "Dana Whitfield"
FEATURED_FIRST_NAME = "Dana"
FEATURED_LAST_NAME = "Whitfield"
FEATURED_EMAIL = "dana.w@example.com"
FEATURED_PHONE = "+14155550123"
FEATURED_CRM = "C-1042"
FEATURED_COMPANY = "Whitfield Design Co."
FEATURED_CITY = "Austin"
FEATURED_CASE = "CAS-01234"
FEATURED_CASE_TITLE = "Parcel arrived damaged"
FEATURED_CASE_PRIORITY = "High"
FEATURED_CASE_STATUS = "active"
FEATURED_CASE_PRODUCT = "Ceramic Vase Set"
FEATURED_CASE_OWNER = "Priya Raman"
FEATURED_ORDER = "SO-99812"  # the order her handoff's pre-chat answer names
FEATURED_ORDER_TOTALS: tuple[Decimal, ...] = (
    Decimal("64.50"),
    Decimal("120.00"),
    Decimal("42.25"),
    Decimal("310.00"),
    Decimal("189.00"),
)
FEATURED_LIFETIME_VALUE = sum(FEATURED_ORDER_TOTALS, Decimal("0"))  # 725.75
FEATURED_CSAT_SCORES: tuple[int, ...] = (5, 2, 4)
FEATURED_PRIOR_CONVERSATIONS = 6
FEATURED_DAMAGED_MENTIONS = 3  # "damaged" in 3 of the last 6 -> 50 % (the seed's own example)
FEATURED_CASES: tuple[str, ...] = ("CAS-00872", "CAS-00990", FEATURED_CASE)  # oldest first

# --------------------------------------------------------------------------- word lists

FIRST_NAMES_FEMALE = (
    "Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
    "Emily", "Elizabeth", "Sofia", "Ella", "Madison", "Scarlett", "Victoria", "Aria", "Grace", "Chloe",
    "Camila", "Penelope", "Riley", "Layla", "Lillian", "Nora", "Zoey", "Hannah", "Lily", "Eleanor",
    "Priya", "Aisha", "Mei", "Yuki", "Fatima", "Ingrid", "Chiara", "Lucia", "Maya", "Naomi",
    "Rachel", "Laura", "Julia", "Sarah", "Rebecca", "Megan", "Claire", "Diana", "Teresa", "Rosa",
)
FIRST_NAMES_MALE = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Alexander",
    "Mason", "Michael", "Ethan", "Daniel", "Jacob", "Logan", "Jackson", "Levi", "Sebastian", "Mateo",
    "Jack", "Owen", "Theodore", "Aiden", "Samuel", "Joseph", "John", "David", "Wyatt", "Matthew",
    "Rahul", "Omar", "Kenji", "Wei", "Lars", "Marco", "Diego", "Tomás", "Kwame", "Arjun",
    "Thomas", "Robert", "Andrew", "Paul", "Mark", "Peter", "Simon", "Victor", "Hugo", "Felix",
)
FIRST_NAMES_NEUTRAL = ("Alex", "Jordan", "Taylor", "Casey", "Morgan", "Sam", "Jamie", "Avery", "Quinn", "Robin")
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Patel", "Shah", "Kim", "Park", "Chen", "Wang", "Singh", "Kumar", "Tanaka", "Sato",
    "Müller", "Schmidt", "Rossi", "Bianchi", "Dubois", "Laurent", "Novak", "Kowalski", "Andersson", "Hansen",
    "O'Brien", "Murphy", "Kelly", "Sullivan", "Walsh", "MacDonald", "Fraser", "Hughes", "Evans", "Price",
    "Okafor", "Mensah", "Haddad", "Cohen", "Levy", "Ivanova", "Silva", "Santos", "Costa", "Pereira",
    "Brooks", "Bennett", "Wood", "Barnes", "Ross", "Henderson", "Coleman", "Jenkins", "Perry", "Powell",
)
COMPANY_STEMS = (
    "Northwind", "Bluebird", "Cedar & Pine", "Harbor", "Summit", "Ironwood", "Brightline", "Oakridge",
    "Silver Fern", "Redstone", "Maple Street", "Golden Gate", "Lakeside", "Juniper", "Copperleaf",
    "Willow", "Granite", "Riverbend", "Sunset", "Evergreen", "Foxglove", "Highland", "Meridian", "Sparrow",
    "Atlas", "Beacon", "Crescent", "Driftwood", "Ember", "Falcon", "Hearth", "Keystone", "Lantern",
)
COMPANY_KINDS = (
    "Design Co.", "Interiors", "Outfitters", "Trading Co.", "Logistics", "Hospitality Group", "Dental",
    "Bakery", "Coffee Roasters", "Architects", "Studio", "Market", "Home Goods", "Hotels", "Retail Group",
    "Property Management", "Event Rentals", "Florist", "Boutique", "Supply",
)
JOB_TITLES = (
    "Owner", "Founder", "Purchasing Manager", "Office Manager", "Operations Director", "Interior Designer",
    "Procurement Lead", "Store Manager", "Facilities Coordinator", "Head of Merchandising", "Buyer",
    "Executive Assistant", "General Manager", "Creative Director", "Account Executive",
)
ACCOUNT_MANAGERS = (
    "Priya Raman", "Marcus Bell", "Elena Sokolova", "Tom Okafor", "Grace Liu", "Ben Harper",
    "Sofia Marin", "Jonah Weiss", "Aaliyah Brooks", "Lukas Meyer",
)
SUPPORT_AGENTS = (
    "Priya Raman", "Marcus Bell", "Elena Sokolova", "Tom Okafor", "Grace Liu", "Ben Harper",
    "Sofia Marin", "Jonah Weiss", "Aaliyah Brooks", "Lukas Meyer", "Hana Ito", "Carlos Vega",
)

# city, country, area codes (national numbers are +<cc><area>555<line> for US/CA), currency
CITIES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("Austin", "US", ("512", "737"), "USD"),
    ("Seattle", "US", ("206", "425"), "USD"),
    ("Portland", "US", ("503", "971"), "USD"),
    ("Denver", "US", ("303", "720"), "USD"),
    ("Chicago", "US", ("312", "773"), "USD"),
    ("Boston", "US", ("617", "857"), "USD"),
    ("New York", "US", ("212", "646", "718"), "USD"),
    ("San Francisco", "US", ("415", "628"), "USD"),
    ("Los Angeles", "US", ("213", "310", "323"), "USD"),
    ("Atlanta", "US", ("404", "678"), "USD"),
    ("Miami", "US", ("305", "786"), "USD"),
    ("Phoenix", "US", ("602", "480"), "USD"),
    ("Minneapolis", "US", ("612", "952"), "USD"),
    ("Nashville", "US", ("615", "629"), "USD"),
    ("Raleigh", "US", ("919", "984"), "USD"),
    ("Salt Lake City", "US", ("801", "385"), "USD"),
    ("San Diego", "US", ("619", "858"), "USD"),
    ("Philadelphia", "US", ("215", "267"), "USD"),
    ("Dallas", "US", ("214", "469"), "USD"),
    ("Houston", "US", ("713", "832"), "USD"),
    ("Toronto", "CA", ("416", "647"), "CAD"),
    ("Vancouver", "CA", ("604", "778"), "CAD"),
    ("London", "GB", (), "GBP"),
    ("Manchester", "GB", (), "GBP"),
)
CITY_WEIGHTS = tuple(6 if country == "US" else 3 if country == "CA" else 2 for _, country, _, _ in CITIES)
PERSONAL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
RELATIONSHIPS = ("Customer", "Partner", "Prospect", "Vendor")
RELATIONSHIP_WEIGHTS = (70, 10, 15, 5)
CATEGORIES = ("Retail", "SMB", "Enterprise", "Public sector")
CATEGORY_WEIGHTS = (55, 30, 12, 3)
CHANNELS = ("Email", "Phone", "SMS", "Web chat", "WhatsApp")
CHANNEL_WEIGHTS = (35, 20, 20, 20, 5)
GENDERS = ("Female", "Male", "Non-binary", "Prefer not to say")
TAGS = ("vip", "wholesale", "newsletter", "loyalty-gold", "loyalty-silver", "trade-account", "net-30", "gift-buyer")

PRODUCTS: tuple[tuple[str, float, float], ...] = (
    ("Ceramic Vase Set", 45, 220), ("Linen Throw Pillow", 25, 80), ("Oak Side Table", 120, 480),
    ("Walnut Desk Organizer", 30, 95), ("Stoneware Dinner Set", 80, 260), ("Wool Area Rug", 150, 900),
    ("Brass Floor Lamp", 90, 340), ("Glass Pendant Light", 70, 260), ("Cotton Bath Towels", 20, 90),
    ("Cast Iron Skillet", 30, 120), ("Bamboo Cutting Board", 15, 60), ("Espresso Machine", 180, 850),
    ("Standing Desk Frame", 250, 700), ("Ergonomic Office Chair", 190, 950), ("Velvet Armchair", 320, 1200),
    ("Smart Thermostat", 110, 260), ("Leather Weekender Bag", 140, 420), ("Scented Candle Trio", 18, 60),
)
CASE_TITLES = (
    "Parcel arrived damaged", "{product} arrived damaged", "Refund not received", "Delivery is late",
    "Wrong item delivered", "Missing part for {product}", "Request to cancel order", "{product} stopped working",
    "Charged twice for one order", "Warranty claim for {product}", "Return label not received",
    "Discount code not applied", "Account locked after password reset", "Change delivery address",
)
PRIORITIES = ("Low", "Normal", "High", "Urgent")
PRIORITY_WEIGHTS = (25, 50, 20, 5)
CASE_STATUSES = ("active", "resolved", "canceled")
CASE_STATUS_WEIGHTS = (25, 65, 10)
COMMENTS = (
    "Asked the customer for photos of the damage.",
    "Carrier claim opened; reference attached to the case.",
    "Replacement reserved in the warehouse, ships in 2 days.",
    "Refund approved by finance, 5-7 business days.",
    "Escalated to tier 2: recurring issue with this product batch.",
    "Called the customer, no answer; left a voicemail.",
    "Supplier confirmed a known defect in this batch.",
    "Waiting on the return to arrive before refunding.",
)
NOTES = (
    "Prefers to be contacted after 5pm.",
    "Repeat buyer, very polite; mentioned a referral.",
    "Asked not to receive marketing emails.",
    "Ordering for a new office opening next month.",
    "Had two late deliveries last quarter; offer expedited shipping.",
    "Interested in the trade discount programme.",
    "Speaks Spanish and English.",
    "Wants invoices sent to the accounts payable inbox.",
)
EMAILS_SENT = (
    "Your order has shipped", "Your refund has been processed", "We received your return",
    "Quick survey about your recent chat", "Your invoice is ready", "Delivery rescheduled",
)
CALLS = ("Inbound call: order status", "Outbound follow-up on case", "Inbound call: billing question", "Callback requested")

# Past conversation scenarios: topic, customer lines, bot line, agent line, disposition.
SCENARIOS: tuple[tuple[str, tuple[str, ...], str, str, str], ...] = (
    ("Damaged item", ("Hi, my {product} arrived damaged.", "The box was crushed and one piece is broken."),
     "I'm sorry to hear that. Let me get a person.", "I've arranged a replacement, {first}. So sorry about that.", "resolved"),
    ("Damaged item", ("The {product} I got is damaged, there's a big scratch on top.",),
     "Sorry about that! Connecting you to an agent.", "A replacement is on its way, {first}.", "resolved"),
    ("Refund status", ("I returned the {product} two weeks ago and still no refund.", "Can you check where my refund is?"),
     "Let me find someone who can look into your refund.", "Your refund was issued today, {first}.", "resolved"),
    ("Order status", ("My order is late, it was supposed to arrive on Monday.", "Tracking hasn't updated in 4 days."),
     "I'll hand you to our delivery team.", "The carrier confirmed delivery tomorrow, {first}.", "follow_up"),
    ("Cancel order", ("I'd like to cancel my order for the {product} please.",),
     "I can get a person to cancel that for you.", "Done, {first}: the order is cancelled and refunded.", "resolved"),
    ("Billing", ("I was charged twice for the same order.", "Please fix this, it's really frustrating."),
     "Let me connect you with billing.", "I've reversed the duplicate charge, {first}.", "resolved"),
    ("Product question", ("Does the {product} come in a larger size?", "Great, thanks for the quick help!"),
     "Good question! Let me find someone who knows.", "Yes, it comes in large and extra large, {first}.", "resolved"),
    ("Account access", ("I can't log in to my account.", "The password reset email never arrives."),
     "Let me get a person to help with your account.", "I've reset it manually, {first}; check your inbox.", "resolved"),
    ("Feedback", ("Just wanted to say the {product} is lovely, thank you!",),
     "Thank you! I'll pass that on to the team.", "Thanks so much, {first}, that made our day.", "resolved"),
    ("Broken item", ("The {product} stopped working after a week.", "I want a refund or a replacement."),
     "I'm sorry. Connecting you to someone now.", "A replacement is on the way, {first}.", "escalated"),
)
SCENARIO_WEIGHTS = (10, 6, 9, 10, 5, 5, 10, 4, 4, 5)
CONVERSATION_CHANNELS = ("webchat", "sms", "email", "msteams")
CONVERSATION_CHANNEL_WEIGHTS = (55, 25, 15, 5)
QUEUES = ("support", "billing", "orders", "returns")
BOT = {"name": "Acme Assistant", "topics": ["Greeting"], "reason": "customer asked for a human"}
