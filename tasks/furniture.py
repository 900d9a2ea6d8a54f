"""The wording of site furniture: the patterns the boilerplate rules match.

Each list belongs to one versioned rule of `tasks/boilerplate.py` (`RULES` maps the
name to its patterns; a pattern that changes what a rule removes needs a new name).
Patterns are matched case-insensitively unless they say `(?-i:…)`, and most start at
the paragraph's first word: reporting does not open with "Follow us on".
`benchmarks/boilerplate_precision.py` measures each rule on the development corpora.
"""

from __future__ import annotations

# Comment-section disclaimers: the legal and moderation notices publishers print
# under their comment forms ("sending false messages ... is punishable under law").
COMMENT_DISCLAIMER_V1 = [
    r"\bsending (?:false|offensive|abusive|obscene) (?:messages|comments)\b.{0,200}"
    r"\b(?:punishable|at your own risk|held responsible)\b",
    r"\bplease write your correct name(?: and email)?",
    r"\bkindly do not post any (?:personal|abusive|defamatory)",
    r"\b(?:will|shall) not be (?:held )?responsible for any (?:defamatory|offensive|abusive)",
    r"\bin no way will \S+ be held responsible\b",
    r"\bobligatory on \S+ to provide the ip address\b",
    r"\bcomments? (?:are|is) (?:moderated|subject to moderation)\b",
    r"\bviews expressed in (?:the )?comments\b",
]

_SOCIAL = r"(?:twitter|x|facebook|instagram|linkedin|youtube|tiktok|threads|telegram|whatsapp)"

# Share buttons, follow-us lines, subscription and newsletter prompts. Each pattern
# starts at the paragraph's first word: reporting does not open with "Follow us on".
SHARE_FOLLOW_V1 = [
    r"^(?:share|tweet|email|print|pin)(?: this)?(?: (?:article|story|page|post|link))?"
    r"(?: (?:on|via|with) [\w ,&]+)?\W*$",
    r"^(?:read or )?share this (?:story|article|page)\b",
    rf"^(?:follow|like|find|join) us (?:on|at) {_SOCIAL}\b",
    r"^follow us\W*(?:@\w*)?\W*$",
    rf"^follow (?:@\w+|[\w .'&-]{{2,60}}?) on {_SOCIAL}\b",
    r"^(?:(?:\w+ )?newsletter:? )?sign[ -]?up (?:for|to|now|here|today)\b.{0,80}"
    r"\b(?:newsletters?|e-?mails?|alerts|briefing|inbox|subscribe)\b",
    r"^(?:\w+ )?newsletter:? sign[ -]?up\b",
    r"^subscribe(?: now| today| here)?\W*$",
    r"^subscribe (?:to|for) (?:our|the latest|free)\b",
    r"^(?:keep up with|stay on top of) this story\b.{0,60}\bsubscrib",
    r"^(?:click|tap) here to (?:subscribe|sign up|follow|download|share|read more)\b",
    r"^download (?:our|the [\w ]{1,30}?) app\b",
    r"^get (?:our|the) [\w ]{0,40}newsletter\b",
    r"^if you (?:like|liked|enjoyed) this (?:story|article)\b.{0,40}\bshare\b",
]

# Cookie banners and privacy notices, as sites word them to their readers.
COOKIE_NOTICE_V1 = [
    r"^(?:this|our) (?:web ?site|site) uses cookies\b",
    r"^we use cookies\b",
    r"^by (?:continuing to )?(?:use|using|browse|browsing|visit|visiting) (?:this|our) "
    r"(?:web ?site|site)\b.{0,80}\b(?:agree|consent|accept)",
    r"^(?:accept|manage|reject|allow) (?:all )?cookies\b",
    r"^(?:read |see |view |review )?(?:our )?(?:updated )?(?:privacy (?:policy|notice)|"
    r"cookie (?:policy|notice|settings)|terms of (?:use|service))"
    r"(?:\W+(?:and |& )?(?:privacy (?:policy|notice)|cookie (?:policy|notice)|"
    r"terms of (?:use|service)))*\W*$",
    r"^we(?: have|'ve)? updated our (?:privacy|cookie) (?:policy|notice)\b",
]

# Links to other stories and "keep reading" furniture.
READ_MORE_V1 = [
    r"^(?:read more|also read|read also|see also|related|related (?:articles?|stories|"
    r"coverage|content|news|links|topics)|recommended(?: reading)?|further reading|"
    r"more on this(?: story| topic)?|(?:more|top) (?:stories|news))\s*(?:[:|»›>-].*)?$",
    r"^read more (?:about|on|at|here|from|stories|news)\b",
    r"^(?:also read|related stories)\b",
    r"^read the (?:original|full) (?:article|story)\b",
    r"^you (?:may|might) also (?:like|be interested in)\b",
    r"^continue reading(?: the main story)?\W*$",
    r"^scroll down for (?:video|more)\b",
]

# Photo credits, caption labels and bare media labels ("Photo", "Video").
PHOTO_CREDIT_V1 = [
    # "Photo: Jane Doe/Reuters", a credit, not a caption: short and not a sentence.
    r"^(?:photo|photograph|picture|image|pic)s?(?: credit| courtesy)?\s*:\s*[^.!?]{1,80}\.?$",
    r"^(?:image|photo|picture) (?:copyright|caption|source|credit)\b",
    # A caption ending in its credit: "… (Photo by Jane Doe/Getty Images)", "… (Photo: AP)".
    r"^[^\"]{0,300}\((?:photo|picture|image|pic)s?(?: by| credit| courtesy)?\b[^)]{0,120}\)\W*$",
    r"^[^\"]{0,300}\([^()]{0,60}(?:getty images|shutterstock|ap photo|/afp|/reuters|/epa)\)\W*$",
    r"^[^\"]{0,300}\|\s*(?:photo|image|picture) credit\s*:[^|]{1,80}$",
    r"^enlarge (?:this )?image\b",
    r"^(?:photo|photos|image|images|video|gallery|audio)\W*$",
]

# Copyright lines, including the agency notices wire copy carries.
COPYRIGHT_V1 = [
    r"^(?:copyright\s*)?(?:©|\(c\)\s*\d{4})",
    r"^copyright\s+(?:\d{4}|©)",
    r"^all rights reserved\b",
    r"^.{0,100}(?:©|\bcopyright\b).{0,100}\ball rights reserved\b",
    r"\bmay not be published, broadcast, rewritten,? or redistributed\b",
]

# Advertising labels left in the body text.
ADVERTISEMENT_V1 = [
    r"^(?:advertisement|advert|sponsored(?: content)?|paid content|promoted content)"
    r"(?: continue reading the main story)?\W*$",
    r"^story continues below(?: advertisement)?\W*$",
]

# Newsletter and app sign-up prompts that `share_follow_v1` misses: a bare
# "<Name> Newsletter" heading, "Sign up to get …", "Never miss … by signing up …",
# "Subscribe to <Name> newsletters.", "… download the <Name> app(s)".
NEWSLETTER_PROMPT_V1 = [
    r"^(?-i:(?:\p{Lu}[\w'’&.-]* ){1,4}Newsletters?)\W*$",
    r"^(?:then |so |and )?sign[ -]?up (?:now |today |here )?(?:to (?:get|receive)|for "
    r"(?:our|the|my)\b.{0,60}\bnewsletters?)\b",
    r"^never miss\b.{0,80}\b(?:sign(?:ing)?[ -]?up|subscrib\w*|newsletters?)\b",
    r"^(?:[^.!?]{0,40}[.!?] )?subscribe to (?:our |my |the )?[\w .'’&-]{0,40}\bnewsletters?\b",
    r"^if you(?: would|'d|’d)? (?:want|like) to (?:receive|get)\b.{0,100}\bsign[ -]?up\b",
    r"^to (?:receive|get)\b.{0,80}\b(?:inbox|e-?mail)\b.{0,30}\bsign[ -]?up\b",
    r"^for the latest\b.{0,80}\bdownload (?:the|our)\b.{0,40}\bapps?\b",
    r"^(?:by (?:signing up|subscribing),? you (?:agree|acknowledge)|"
    r"you (?:can|may) unsubscribe at any time)\b",
    r"^(?:thanks?|thank you) for (?:subscribing|signing up)\b",
    r"^get (?:the|our) (?:latest|best|top)\b.{0,60}\b(?:delivered to|in|straight to) your inbox\b",
    r"^enter your e-?mail(?: address)?\b",
]

# "Follow us: Google News | NewsBreak | …" and bare lists of social channels.
_CHANNEL = (
    r"(?:google news|newsbreak|flipboard|apple news|facebook|twitter|x|instagram|youtube|"
    r"linkedin|tiktok|threads|telegram|whatsapp|pinterest|reddit|rss|e-?mail)"
)
SOCIAL_LINKS_V1 = [
    r"^(?:follow|find|connect with|like) us(?: on)?\s*[:|–—-]\s*\S",
    rf"^(?:{_CHANNEL}\s*[|,/·•]?\s*){{2,}}$",
]

# "MORE: <another headline>" link lines. The label is matched as sites write it (upper
# case or capitalised) and a link line has no closing full stop, so a sentence that
# starts "More: the council also voted …." stays.
MORE_LINK_V1 = [r"^(?-i:MORE|More)\s?:\s+\S.{0,200}[^.\s]$"]

# Comment counters and links: "comments", "12 Comments", "View comments",
# "January 13, 2020 | categories: Python | View Comments".
COMMENT_LINK_V1 = [
    r"^(?:\d[\d,.]*k?\s+)?comments?(?:\s*\(\d+\))?\W*$",
    r"^(?:view|show|hide|read|load|see|post|add|leave|write|jump to|join)(?: the| all| a| an| your"
    r"| \d+)? (?:comments?|discussion)(?:\s*\(\d+\))?\W*$",
    r"^(?:no|\d+) (?:comments|responses|replies)(?: yet)?\W*$",
    r"^be the first to comment\W*$",
    r"^comments (?:are|have been) (?:now )?(?:closed|disabled|turned off)"
    r"(?: for this (?:article|story|post))?\W*$",
    r"^[^.!?]{0,150}\|\s*(?:view|show|leave an?|add an?|post an?|\d+|no) comments?\W*$",
]

# Caption lines under an upper-case media label: "IMAGE: Crowds at the quay …". The
# label must be upper case: CNN's "Photos: <gallery title> <caption>" are the story.
CAPTION_LABEL_V1 = [r"^(?-i:(?:IMAGE|PHOTO|PICTURE|PHOTOGRAPH)S?)\s?:\s"]

# Consent walls that replace the article: "If you click 'Accept all', we and our
# partners …". Anchored at the paragraph's start, so reporting that quotes a button
# ('The button read "Accept all", the regulator said') stays.
_BUTTON = r"[\"'‘“]?(?:accept all|accept|agree|i agree|reject all|manage (?:privacy )?settings)"
CONSENT_WALL_V1 = [
    rf"^if you click {_BUTTON}\b",
    rf"^(?:by )?click(?:ing)? {_BUTTON}[\"'’”]?,? you (?:agree|consent|accept)\b",
    rf"^(?:select|choose|click) {_BUTTON}[\"'’”]?.{{0,100}}"
    r"\b(?:cookies|consent|partners|choices)\b",
    r"^(?:we|[\w.]+(?: [\w.]+)?) and our (?:\d+ )?(?:trusted )?(?:partners|vendors)\b.{0,200}"
    r"\b(?:cookies|store and/or access|personal data|your data|on a device|consent)\b",
    r"^you can (?:change|withdraw|manage) your (?:choices|consent|preferences) at any time\b",
    r"^we (?:value|care about|respect) your privacy\W*$",
]

# Paywall notices standing in for the article.
PAYWALL_NOTICE_V1 = [
    r"^this (?:content|article|story|page|feature) is (?:(?:reserved|available|only available|"
    r"exclusive|restricted|only) )?(?:to|for) (?:our )?(?:paid |premium |digital )?"
    r"(?:subscribers|members)\b",
    r"^(?:subscribe|(?:sign|log) ?in) (?:now |today )?to (?:continue|keep) reading\b",
    r"^(?:subscribe|(?:sign|log) ?in) (?:now |today )?to (?:read|unlock|access) (?:the|this) "
    r"(?:full |rest of the |entire )?(?:article|story)\b",
    r"^already have an account\W",
    r"^to (?:view|read|continue reading|access|see) (?:the|this) (?:full |entire |rest of the )?"
    r"(?:story|article|content),? (?:please )?(?:subscribe|log ?in|sign in|register|become a)\b",
    r"^subscribe (?:now |today )?(?:to|for) .{0,60}?\bfor (?:the )?full (?:story|article|access)\b",
    r"^(?:already a (?:subscriber|member)|(?:if )?you(?:'|’)re (?:seeing this message but "
    r"you(?:'|’)re )?already a (?:subscriber|member))\b",
    r"^first[- ]time subscribers\b",
    r"^you(?:'|’)ve (?:reached|read) (?:your|all of your|the)\b.{0,30}\b(?:limit|free)",
    r"^you have (?:reached|read) (?:your|all of your|the maximum)\b.{0,40}"
    r"\b(?:articles?|stories|limit)\b",
    r"^(?:subscribers?|members?)[- ]only (?:content|article|story)\b",
    r"^(?:get|gain|enjoy) unlimited (?:digital )?access\b",
    r"^(?:please )?(?:log ?in|sign in) or (?:subscribe|register)\b",
]

# Affiliate and advertiser disclosures that review and shopping pages print above the
# text: "This post contains references to products from … our advertisers", "We may
# earn a commission when you buy through links …". Anchored at the paragraph's start
# in the site's own voice, so reporting about commissions ("The agency may earn a
# commission, the regulator said") stays.
_LINKS = r"(?:links?|affiliate links?|retail links?)"
AFFILIATE_DISCLOSURE_V1 = [
    r"^this (?:post|article|page|story|review|guide|content)(?: may)? (?:contains?|includes?) "
    r"(?:affiliate links|references to products\b.{0,40}\badvertisers|links to products\b"
    r".{0,60}\b(?:commission|compensation|earn))",
    r"^we recommend the best products through an independent review process\b",
    r"^we (?:may )?(?:earn|receive|get) (?:a )?(?:small )?(?:commission|compensation)\b.{0,80}"
    rf"\b(?:through|via|from|on) (?:our |these |the |those )?{_LINKS}",
    r"^as an amazon associate,? (?:i|we)\b",
    r"^(?:advertiser|affiliate|advertising) disclosure\W*$",
]

RULES: dict[str, list[str]] = {
    "comment_disclaimer_v1": COMMENT_DISCLAIMER_V1,
    "share_follow_v1": SHARE_FOLLOW_V1,
    "cookie_notice_v1": COOKIE_NOTICE_V1,
    "read_more_v1": READ_MORE_V1,
    "photo_credit_v1": PHOTO_CREDIT_V1,
    "copyright_v1": COPYRIGHT_V1,
    "advertisement_v1": ADVERTISEMENT_V1,
    "newsletter_prompt_v1": NEWSLETTER_PROMPT_V1,
    "social_links_v1": SOCIAL_LINKS_V1,
    "more_link_v1": MORE_LINK_V1,
    "comment_link_v1": COMMENT_LINK_V1,
    "caption_label_v1": CAPTION_LABEL_V1,
    "consent_wall_v1": CONSENT_WALL_V1,
    "paywall_notice_v1": PAYWALL_NOTICE_V1,
    "affiliate_disclosure_v1": AFFILIATE_DISCLOSURE_V1,
}

# How a site speaks to its reader about its own channels: an imperative opening
# ("Join …", "Subscribe to …", "Email: …", "Contact … at"), a closing call ("… Sign up
# here."), "you can contact …", "you need to be a subscriber", or legal voice
# (responsibility, reserved rights, readers' views). Talk *about* the site ("we want
# our site to be fast", "in this fact-check, we'll interpret …") is none of these.
SELF_PROMOTION = [
    # (an imperative word then a space, colon or the end: "Follow-up reporting" is none)
    r"^\W*(?:join|follow|subscribe|sign (?:me )?up|download|e-?mail(?: address)?|register|"
    r"log ?in|visit|click|show comments)(?:\s|:|$)",
    r"^\W*contact (?:us|the|our|(?-i:\p{Lu}))",
    # A closing button label is capitalised: "… Sign up here", not "… urged voters to
    # register."
    r"(?-i:\b(?:Sign (?:me )?[Uu]p|Subscribe|Register)(?: here| now| today| for free)?)\W*$",
    r"^(?:you can|please) (?:contact|reach|email|follow|write to|find)\b",
    r"\byou (?:need|have|must) to be an? (?:subscriber|member|registered)\b",
    r"\bnot be (?:held )?(?:responsible|liable)\b|\bin no way will\b|\bat your own risk\b",
    r"\b(?:obligatory|mandatory) (?:on|for) \S+ to\b",
    r"\breserves? the right to\b",
    r"\b(?:are|is) (?:the|solely the) (?:views|opinions?|responsibility) of (?:the |its )?"
    r"(?:readers?|users?|authors?|commenters?|individual)",
    r"\bdo(?:es)? not (?:necessarily )?(?:reflect|represent) the (?:views|opinions?)\b",
]

# "<Name> is a writer/editor/reporter …": an author's bio teaser. Furniture only where
# nothing of the article follows it (the end of a body, or the whole body).
_PARTICLE = r"(?:van|von|de|der|den|da|di|del|la|le|al|el|bin) "
_NAME = rf"\p{{Lu}}[\p{{L}}.'’-]+(?: (?:{_PARTICLE})*\p{{Lu}}[\p{{L}}.'’-]+){{1,3}}"
_ROLE = (
    r"(?i:writer|editor|reporter|journalist|correspondent|contributor|columnist|author|"
    r"freelancer|blogger|critic|analyst|producer|trader)s?"
)
AUTHOR_BIO = (
    rf"^(?-i:{_NAME}),? (?:is|was|has been) (?:an? |the )(?:[\p{{L}}-]+ ){{0,4}}{_ROLE}"
    # more roles ("analyst and trader"), then where or what they write: "at/for/of
    # <outlet>", "covering …", "who covers …".
    rf"(?:(?:,|,? and|,? &) (?:[\p{{L}}-]+ ){{0,2}}{_ROLE})*"
    r"(?:,? (?:at|for|with|of|on|based in|covering)\b|,? who (?:covers|writes|reports|focuses|"
    r"speciali[sz]es|has (?:written|covered|worked|reported))\b)"
    # or the heading over such a bio
    r"|^(?i:about the author|author bio(?:graphy)?)\W*$"
)

# The other lines of a consent wall: what it says about cookies, data and choices.
CONSENT_WORDS = (
    r"(?i)\b(?:cookies?|personal data|consent|our (?:sites|partners)|sites and apps|"
    r"privacy (?:policy|settings|dashboard)|cookie (?:policy|settings)|family of brands|"
    r"(?:reject|accept) all|your choices)\b"
)
