//! Domains and names that pretend to be someone else: brands named in a
//! display name by a sender outside the brand, domains whose confusable
//! skeleton (UTS #39) equals a brand's or the organisation's own, one typing
//! slip away from one, or mixing scripts inside a label. A single-script
//! internationalised domain (`münchen.de`) is not suspicious by itself.

use unicode_normalization::UnicodeNormalization as _;
use unicode_security::confusable_detection::skeleton;
use unicode_security::MixedScript;

use crate::ioc::registrable_domain;

/// A brand phishers borrow: the words that name it and the registrable
/// domains it really sends from.
pub struct Brand {
    pub name: &'static str,
    pub words: &'static [&'static str],
    pub domains: &'static [&'static str],
}

macro_rules! brands {
    ($($name:literal: [$($word:literal),*] => [$($domain:literal),*];)*) => {
        &[$(Brand { name: $name, words: &[$($word),*], domains: &[$($domain),*] }),*]
    };
}

/// Brands impersonated most in public phishing collections.
pub static BRANDS: &[Brand] = brands! {
    "Microsoft": ["microsoft", "office 365", "office365", "microsoft 365", "outlook", "onedrive", "sharepoint", "hotmail", "windows live"] =>
        ["microsoft.com", "office.com", "office365.com", "outlook.com", "live.com", "hotmail.com", "microsoftonline.com", "sharepoint.com", "onedrive.com", "microsoft365.com", "msn.com", "onmicrosoft.com"];
    "PayPal": ["paypal"] => ["paypal.com", "paypal.de", "paypal.co.uk", "paypal-communication.com"];
    "Apple": ["apple", "icloud", "itunes", "apple id"] => ["apple.com", "icloud.com", "me.com", "itunes.com"];
    "Amazon": ["amazon", "prime video"] => ["amazon.com", "amazon.de", "amazon.co.uk", "amazon.fr", "amazon.es", "amazon.it", "amazon.com.br", "amazon.ca", "amazonses.com", "amazonaws.com", "primevideo.com"];
    "Netflix": ["netflix"] => ["netflix.com"];
    "Google": ["google", "gmail"] => ["google.com", "gmail.com", "googlemail.com", "youtube.com"];
    "Facebook": ["facebook", "meta for business"] => ["facebook.com", "facebookmail.com", "meta.com", "fb.com"];
    "Instagram": ["instagram"] => ["instagram.com", "facebookmail.com", "mail.instagram.com"];
    "WhatsApp": ["whatsapp"] => ["whatsapp.com", "facebookmail.com"];
    "LinkedIn": ["linkedin"] => ["linkedin.com"];
    "DHL": ["dhl"] => ["dhl.com", "dhl.de", "dhl-news.com", "dpdhl.com"];
    "FedEx": ["fedex"] => ["fedex.com"];
    "UPS": ["ups"] => ["ups.com"];
    "USPS": ["usps", "postal service"] => ["usps.com", "usps.gov"];
    "DocuSign": ["docusign"] => ["docusign.com", "docusign.net"];
    "Dropbox": ["dropbox"] => ["dropbox.com", "dropboxmail.com"];
    "Adobe": ["adobe"] => ["adobe.com"];
    "Chase": ["chase bank", "jpmorgan chase"] => ["chase.com", "jpmorganchase.com"];
    "Wells Fargo": ["wells fargo", "wellsfargo"] => ["wellsfargo.com"];
    "Bank of America": ["bank of america", "bankofamerica"] => ["bankofamerica.com", "bofa.com"];
    "Citi": ["citibank"] => ["citi.com", "citibank.com"];
    "American Express": ["american express", "amex"] => ["americanexpress.com", "aexp.com"];
    "Visa": ["visa card", "verified by visa"] => ["visa.com"];
    "Mastercard": ["mastercard"] => ["mastercard.com"];
    "Coinbase": ["coinbase"] => ["coinbase.com"];
    "Binance": ["binance"] => ["binance.com"];
    "MetaMask": ["metamask"] => ["metamask.io"];
    "Steam": ["steam support", "steamcommunity"] => ["steampowered.com", "steamcommunity.com"];
    "Spotify": ["spotify"] => ["spotify.com"];
    "Zoom": ["zoom video"] => ["zoom.us"];
    "Norton": ["norton", "lifelock"] => ["norton.com", "nortonlifelock.com"];
    "McAfee": ["mcafee"] => ["mcafee.com"];
    "Yahoo": ["yahoo"] => ["yahoo.com", "yahoo.co.uk", "yahoo.fr"];
    "AT&T": ["at&t"] => ["att.com", "att.net"];
    "Verizon": ["verizon"] => ["verizon.com", "verizon.net"];
    "eBay": ["ebay"] => ["ebay.com", "ebay.de", "ebay.co.uk"];
    "Walmart": ["walmart"] => ["walmart.com"];
    "Costco": ["costco"] => ["costco.com"];
    "HSBC": ["hsbc"] => ["hsbc.com", "hsbc.co.uk"];
    "Santander": ["santander"] => ["santander.com", "santander.co.uk", "santander.com.br"];
    "Itaú": ["itau", "itaú"] => ["itau.com.br"];
    "Bradesco": ["bradesco"] => ["bradesco.com.br"];
    "Caixa": ["caixa economica", "caixa econômica"] => ["caixa.gov.br"];
    "Banco do Brasil": ["banco do brasil"] => ["bb.com.br"];
    "Nubank": ["nubank"] => ["nubank.com.br"];
    "Correios": ["correios"] => ["correios.com.br"];
    "Mercado Livre": ["mercado livre", "mercadolivre", "mercado libre"] => ["mercadolivre.com.br", "mercadolibre.com"];
    "Sparkasse": ["sparkasse"] => ["sparkasse.de"];
    "Deutsche Bank": ["deutsche bank"] => ["db.com", "deutsche-bank.de"];
    "Deutsche Post": ["deutsche post"] => ["deutschepost.de", "dhl.de"];
    "IRS": ["internal revenue service", "irs"] => ["irs.gov"];
    "HMRC": ["hmrc"] => ["hmrc.gov.uk", "gov.uk"];
    "Outlook Web App": ["webmail", "mail administrator", "mailbox administrator", "email administrator"] => [];
    "Booking.com": ["booking.com"] => ["booking.com"];
    "Airbnb": ["airbnb"] => ["airbnb.com"];
    "Twitter": ["twitter"] => ["twitter.com", "x.com"];
    "TikTok": ["tiktok"] => ["tiktok.com"];
    "Samsung": ["samsung"] => ["samsung.com"];
    "Intuit": ["quickbooks", "turbotax", "intuit"] => ["intuit.com"];
    "Bet365": ["bet365"] => ["bet365.com"];
    "Deutsche Telekom": ["telekom", "t-online"] => ["telekom.de", "t-online.de", "telekom.com"];
    "DPD": ["dpd"] => ["dpd.de", "dpd.com", "dpd.co.uk"];
    "Hermes": ["hermes versand", "myhermes"] => ["myhermes.de", "hermesworld.com"];
    "GLS": ["gls paket", "gls parcel"] => ["gls-group.eu", "gls-pakete.de"];
    "Vodafone": ["vodafone"] => ["vodafone.de", "vodafone.com", "vodafone.co.uk"];
    "ING": ["ing diba", "ing bank"] => ["ing.de", "ing.com", "ing.nl"];
    "Commerzbank": ["commerzbank"] => ["commerzbank.de", "commerzbank.com"];
    "Postbank": ["postbank"] => ["postbank.de"];
    "Volksbank": ["volksbank", "raiffeisenbank"] => ["volksbank.de", "vr.de"];
    "N26": ["n26"] => ["n26.com"];
    "Revolut": ["revolut"] => ["revolut.com"];
    "Allianz": ["allianz"] => ["allianz.de", "allianz.com"];
    "La Poste": ["la poste", "colissimo", "chronopost"] => ["laposte.fr", "laposte.net", "colissimo.fr", "chronopost.fr"];
    "Ameli": ["ameli", "assurance maladie"] => ["ameli.fr", "assurance-maladie.fr"];
    "Royal Mail": ["royal mail", "evri", "parcelforce"] => ["royalmail.com", "evri.com", "parcelforce.com"];
    "PostNL": ["postnl"] => ["postnl.nl"];
    "Canada Post": ["canada post", "postes canada", "interac"] => ["canadapost.ca", "interac.ca"];
    "Rabobank": ["rabobank"] => ["rabobank.nl"];
    "ABN AMRO": ["abn amro"] => ["abnamro.nl", "abnamro.com"];
    "BBVA": ["bbva"] => ["bbva.com", "bbva.es", "bbva.mx"];
    "CaixaBank": ["caixabank"] => ["caixabank.es", "caixabank.com"];
    "Porto Seguro": ["porto seguro"] => ["portoseguro.com.br"];
    "Serasa": ["serasa"] => ["serasa.com.br", "serasaexperian.com.br"];
    "Receita Federal": ["receita federal", "gov.br"] => ["gov.br", "receita.fazenda.gov.br"];
    "Detran": ["detran"] => ["gov.br"];
    "Magalu": ["magalu", "magazine luiza"] => ["magazineluiza.com.br", "magalu.com"];
    "Shopee": ["shopee"] => ["shopee.com.br", "shopee.com"];
    "Americanas": ["americanas"] => ["americanas.com.br", "americanas.com"];
    "AliExpress": ["aliexpress"] => ["aliexpress.com"];
    "Temu": ["temu"] => ["temu.com"];
    "Shein": ["shein"] => ["shein.com"];
    "Kaspersky": ["kaspersky"] => ["kaspersky.com"];
    "Avast": ["avast"] => ["avast.com"];
    "Trust Wallet": ["trust wallet", "trustwallet"] => ["trustwallet.com"];
    "Ledger": ["ledger live", "ledger wallet"] => ["ledger.com"];
    "OpenSea": ["opensea"] => ["opensea.io"];
    "Kraken": ["kraken"] => ["kraken.com"];
    "Crypto.com": ["crypto.com"] => ["crypto.com"];
    "Disney+": ["disney+", "disney plus"] => ["disneyplus.com", "disney.com"];
    "HBO": ["hbo max"] => ["hbomax.com", "max.com"];
    "Comcast": ["xfinity", "comcast"] => ["xfinity.com", "comcast.net", "comcast.com"];
    "T-Mobile": ["t-mobile"] => ["t-mobile.com"];
    "Capital One": ["capital one"] => ["capitalone.com"];
    "Navy Federal": ["navy federal"] => ["navyfederal.org"];
    "USAA": ["usaa"] => ["usaa.com"];
    "Venmo": ["venmo"] => ["venmo.com"];
    "Zelle": ["zelle"] => ["zellepay.com"];
    "Cash App": ["cash app", "cashapp"] => ["cash.app", "square.com"];
    "Walgreens": ["walgreens"] => ["walgreens.com"];
    "CVS": ["cvs pharmacy"] => ["cvs.com"];
    "Home Depot": ["home depot"] => ["homedepot.com"];
    "Lowe's": ["lowe's", "lowes"] => ["lowes.com"];
    "Best Buy": ["best buy", "geek squad"] => ["bestbuy.com", "geeksquad.com"];
    "Publishers Clearing House": ["publishers clearing house"] => ["pch.com"];
    "State Farm": ["state farm"] => ["statefarm.com"];
    "Geico": ["geico"] => ["geico.com"];
    "Medicare": ["medicare"] => ["medicare.gov"];
    "Social Security": ["social security administration"] => ["ssa.gov"];
    "Roblox": ["roblox"] => ["roblox.com"];
};

/// The brand a display name or subject names, if any.
pub fn brand_in_name(display: &str) -> Option<&'static Brand> {
    // Compatibility forms first: `𝗡𝗲𝘁𝗳𝗹𝗶𝘅` (mathematical bold) is Netflix.
    let name: String = display.nfkc().collect::<String>().to_lowercase();
    // Letters only, so `D'isney Plus` and `P a y P a l` still say the name.
    let squashed: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
    BRANDS.iter().find(|brand| {
        brand.words.iter().any(|word| {
            let word_squashed: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
            contains_word(&name, word)
                || (word_squashed.len() >= 6 && squashed.contains(&word_squashed))
        })
    })
}

/// Whether `host` is, or is under, a domain a well-known brand sends from
/// (links to it are not worth watching).
pub fn is_brand_domain(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    BRANDS.iter().any(|brand| is_owned(&host, brand.domains))
}

/// Whether `word` appears in `text` between non-alphanumeric characters.
pub fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Whether `domain` is, or is under, one of `owned`.
pub fn is_owned(domain: &str, owned: &[&str]) -> bool {
    owned
        .iter()
        .any(|own| domain == *own || domain.strip_suffix(own).is_some_and(|p| p.ends_with('.')))
}

/// Why a domain looks like one it is not.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookalike {
    /// Same confusable skeleton as `like`.
    Confusable { like: String },
    /// One letter added, dropped, changed or swapped from `like`.
    Typo { like: String },
    /// The brand's name inside another domain (`paypal-secure.test`).
    BrandInside { brand: &'static str },
    /// A label mixing scripts (`pаypal` with a Cyrillic `а`).
    MixedScripts { label: String },
}

/// How `domain` (a host name, ASCII or punycode) imitates a brand's
/// domain or one of `own` (the organisation's), if it does.
pub fn lookalike(domain: &str, own: &[String]) -> Option<Lookalike> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let (unicode, decoded) = idna::domain_to_unicode(&domain);
    if decoded.is_err() {
        return None;
    }
    if let Some(label) = unicode
        .split('.')
        .find(|label| !label.is_ascii() && !label.is_single_script())
    {
        return Some(Lookalike::MixedScripts {
            label: label.to_owned(),
        });
    }
    let registrable = registrable_domain(&domain).to_owned();
    let own_refs: Vec<&str> = own.iter().map(String::as_str).collect();
    if is_owned(&registrable, &own_refs) {
        return None;
    }
    let label_of = |d: &str| d.split('.').next().unwrap_or("").to_owned();
    let (unicode_registrable, _) = idna::domain_to_unicode(&registrable);
    let label = label_of(&unicode_registrable);
    // The label and each of its hyphenated parts (`paypa1-security`).
    let mut candidates = vec![label.clone()];
    if label.contains('-') {
        candidates.extend(
            label
                .split('-')
                .filter(|p| p.chars().count() >= 4)
                .map(str::to_owned),
        );
    }
    let brand_domains = BRANDS.iter().flat_map(|b| b.domains.iter().copied());
    for target in own_refs.iter().copied().chain(brand_domains) {
        if is_owned(&registrable, &[target]) {
            return None;
        }
    }
    let brand_domains = BRANDS.iter().flat_map(|b| b.domains.iter().copied());
    for target in own_refs.iter().copied().chain(brand_domains) {
        let target_label = label_of(target);
        if target_label.chars().count() < 4 {
            continue;
        }
        for candidate in &candidates {
            if *candidate != target_label && skeleton(&target_label).eq(skeleton(candidate)) {
                return Some(Lookalike::Confusable {
                    like: target.to_owned(),
                });
            }
            if target_label.chars().count() >= 6 && one_slip(candidate, &target_label) {
                return Some(Lookalike::Typo {
                    like: target.to_owned(),
                });
            }
        }
    }
    // A brand's distinctive name inside some other registrable label, or as
    // a subdomain of someone else's (`paypal.com.account-check.test`).
    let subdomains = domain.strip_suffix(registrable.as_str()).unwrap_or("");
    for brand in BRANDS {
        for target in brand.domains {
            let target_label = label_of(target);
            if target_label.len() < 6 {
                continue;
            }
            let inside = label != target_label && label.contains(&target_label);
            let above = subdomains
                .split(['.', '-'])
                .any(|part| part == target_label);
            if inside || above {
                return Some(Lookalike::BrandInside { brand: brand.name });
            }
        }
    }
    None
}

/// Whether `a` and `b` differ by one insertion, deletion, substitution or
/// swap of neighbours.
fn one_slip(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Greater => ra[1..] == *rb,
        std::cmp::Ordering::Less => *ra == rb[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Vec<String> {
        vec!["example-bank.com".into()]
    }

    #[test]
    fn confusables_typos_and_scripts() {
        // Cyrillic а in paypal: mixed scripts.
        let mixed = idna::domain_to_ascii("pаypal.com").unwrap();
        assert!(matches!(
            lookalike(&mixed, &own()),
            Some(Lookalike::MixedScripts { .. })
        ));
        assert_eq!(
            lookalike("paypa1.com", &own()),
            Some(Lookalike::Confusable {
                like: "paypal.com".into()
            })
        );
        assert_eq!(
            lookalike("paypa1-security.com", &own()),
            Some(Lookalike::Confusable {
                like: "paypal.com".into()
            })
        );
        assert_eq!(
            lookalike("rnicrosoft.com", &own()),
            Some(Lookalike::Confusable {
                like: "microsoft.com".into()
            })
        );
        assert_eq!(
            lookalike("exampel-bank.com", &own()),
            Some(Lookalike::Typo {
                like: "example-bank.com".into()
            })
        );
        assert_eq!(
            lookalike("secure-paypal-login.net", &own()),
            Some(Lookalike::BrandInside { brand: "PayPal" })
        );
    }

    #[test]
    fn real_domains_are_not_lookalikes() {
        for domain in [
            "paypal.com",
            "mail.paypal.com",
            "example-bank.com",
            "login.example-bank.com",
            "xn--mnchen-3ya.de", // münchen.de: one script
            "github.com",
            "debian.org",
            "bbc.co.uk",
        ] {
            assert_eq!(lookalike(domain, &own()), None, "{domain}");
        }
    }

    #[test]
    fn brands_in_display_names() {
        assert_eq!(
            brand_in_name("PayPal Service").map(|b| b.name),
            Some("PayPal")
        );
        assert_eq!(
            brand_in_name("Microsoft account team").map(|b| b.name),
            Some("Microsoft")
        );
        assert!(brand_in_name("Groups.io upsell").is_none());
        assert!(brand_in_name("Bob Dhlamini").is_none());
        assert!(one_slip("paypai", "paypal"));
        assert!(one_slip("papyal", "paypal"));
        assert!(!one_slip("paypal", "paypal"));
    }
}
