//! Words phishers use to rush a reader, to ask for credentials and to
//! lure with prizes, money or crypto, in
//! English, German, French, Spanish, Portuguese, Italian and Dutch. One
//! Aho–Corasick pass over the lower-cased text finds every phrase.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

/// What a phrase presses the reader for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Urgency,
    Credentials,
    Lure,
}

/// The distinct phrases of each kind a text holds, in order of first
/// appearance.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pressure {
    pub urgency: Vec<&'static str>,
    pub credentials: Vec<&'static str>,
    pub lure: Vec<&'static str>,
}

const URGENCY: &[&str] = &[
    // English
    "urgent",
    "urgente",
    "urgentemente",
    "immediately",
    "within 24 hours",
    "within 48 hours",
    "within 24hrs",
    "account will be suspended",
    "account has been suspended",
    "account will be closed",
    "will be deactivated",
    "will be terminated",
    "has been locked",
    "has been limited",
    "temporarily suspended",
    "unusual activity",
    "unusual sign-in",
    "suspicious activity",
    "final notice",
    "final warning",
    "last warning",
    "action required",
    "act now",
    "expires today",
    "password expires",
    "password will expire",
    "mailbox is full",
    "storage is full",
    "avoid suspension",
    "failure to",
    "as soon as possible",
    "immediate action",
    // German
    "dringend",
    "sofort",
    "innerhalb von 24 stunden",
    "konto wird gesperrt",
    "konto wurde gesperrt",
    "letzte mahnung",
    "letzte warnung",
    "ungewöhnliche aktivität",
    "handlungsbedarf",
    // French
    "urgence",
    "immédiatement",
    "dans les 24 heures",
    "compte sera suspendu",
    "compte a été suspendu",
    "dernier avertissement",
    "activité inhabituelle",
    "action requise",
    // Spanish
    "inmediatamente",
    "en 24 horas",
    "cuenta será suspendida",
    "cuenta ha sido suspendida",
    "último aviso",
    "actividad inusual",
    "acción requerida",
    // Portuguese
    "imediatamente",
    "em 24 horas",
    "conta será suspensa",
    "conta foi suspensa",
    "conta será bloqueada",
    "conta foi bloqueada",
    "último aviso",
    "atividade incomum",
    "atividade suspeita",
    "ação necessária",
    "regularize",
    "evite o bloqueio",
    "prazo final",
    "pendência",
    "pendente",
    // Italian
    "immediatamente",
    "entro 24 ore",
    "account sarà sospeso",
    "ultimo avviso",
    "attività insolita",
    // Dutch
    "onmiddellijk",
    "binnen 24 uur",
    "account wordt geblokkeerd",
    "laatste waarschuwing",
    "ongebruikelijke activiteit",
];

const CREDENTIALS: &[&str] = &[
    // English
    "verify your account",
    "verify your identity",
    "confirm your account",
    "confirm your identity",
    "confirm your password",
    "update your password",
    "reset your password",
    "enter your password",
    "update your payment",
    "update your billing",
    "payment information",
    "billing information",
    "verify your email",
    "validate your account",
    "login to your account",
    "log in to your account",
    "sign in to your account",
    "sign in to verify",
    "re-activate",
    "reactivate your account",
    "restore your account",
    "unlock your account",
    "credit card details",
    "social security number",
    "bank account details",
    "click here to verify",
    "click the link below",
    "click here to login",
    "click here to log in",
    "your credentials",
    // German
    "bestätigen sie ihr konto",
    "bestätigen sie ihre identität",
    "passwort bestätigen",
    "zugangsdaten",
    "verifizieren sie",
    "melden sie sich an",
    "zahlungsinformationen aktualisieren",
    // French
    "vérifiez votre compte",
    "confirmez votre identité",
    "mot de passe",
    "identifiants",
    "mettre à jour vos informations",
    "connectez-vous",
    // Spanish
    "verifique su cuenta",
    "verifica tu cuenta",
    "confirme su identidad",
    "contraseña",
    "actualice sus datos",
    "inicie sesión",
    // Portuguese
    "verifique sua conta",
    "confirme seus dados",
    "atualize seus dados",
    "atualizar seus dados",
    "atualização cadastral",
    "recadastramento",
    "sua senha",
    "seus dados bancários",
    "dados do cartão",
    "clique aqui",
    "acesse sua conta",
    "confirme sua identidade",
    // Italian
    "verifica il tuo account",
    "conferma la tua identità",
    "aggiorna i tuoi dati",
    "accedi al tuo account",
    // Dutch
    "verifieer uw account",
    "bevestig uw identiteit",
    "wachtwoord",
    "inloggegevens",
    "log in op uw account",
];

const LURE: &[&str] = &[
    // English
    "congratulations",
    "you have won",
    "you've won",
    "you have been selected",
    "you've been selected",
    "you've been chosen",
    "you have been chosen",
    "claim your",
    "claim now",
    "free gift",
    "gift card",
    "your reward",
    "winner",
    "lottery",
    "jackpot",
    "inheritance",
    "beneficiary",
    "bitcoin",
    "btc",
    "crypto",
    "airdrop",
    "wallet",
    "investment opportunity",
    "guaranteed return",
    "wire transfer",
    "unclaimed",
    "compensation fund",
    "personal loan",
    "loan approved",
    "limited time offer",
    "100% free",
    "risk-free",
    "no cost to you",
    "refund",
    "tax refund",
    "payment is pending",
    "free spins",
    "casino",
    "no deposit",
    "elon musk",
    "weight loss",
    "erectile",
    "viagra",
    "keto",
    "unsubscribe from all email list",
    "token for sale",
    "double your",
    // German
    "herzlichen glückwunsch",
    "sie haben gewonnen",
    "gewinnen sie",
    "gewinnspiel",
    "gutschein",
    "belohnung",
    "rückerstattung",
    "erstattung",
    "freispiele",
    "weihnachtsbonus",
    // French
    "félicitations",
    "vous avez gagné",
    "gagnez",
    "cadeau",
    "récompense",
    "remboursement",
    // Spanish
    "felicidades",
    "felicitaciones",
    "ha ganado",
    "has ganado",
    "premio",
    "regalo",
    "recompensa",
    "reembolso",
    // Portuguese
    "parabéns",
    "você ganhou",
    "voce ganhou",
    "prêmio",
    "premiado",
    "resgate",
    "resgatar",
    "brinde",
    "restituição",
    "saldo liberado",
    "saldo disponível",
    "valores a receber",
    "pix",
    "empréstimo",
    // Italian
    "congratulazioni",
    "hai vinto",
    "premio",
    "rimborso",
    // Dutch
    "gefeliciteerd",
    "u heeft gewonnen",
    "prijs gewonnen",
    "terugbetaling",
];

/// `None` only if the automaton could not be built (it always can: the
/// lists are small and fixed).
static PHRASES: LazyLock<Option<(AhoCorasick, Vec<Kind>)>> = LazyLock::new(|| {
    let mut patterns: Vec<&str> = Vec::new();
    let mut kinds = Vec::new();
    for (list, kind) in [
        (URGENCY, Kind::Urgency),
        (CREDENTIALS, Kind::Credentials),
        (LURE, Kind::Lure),
    ] {
        for phrase in list {
            patterns.push(phrase);
            kinds.push(kind);
        }
    }
    let matcher = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
        .ok()?;
    Some((matcher, kinds))
});

/// The phrases of each kind found in `text`.
pub fn pressure(text: &str) -> Pressure {
    let lower = text.to_lowercase();
    let mut found_phrases = Pressure::default();
    let Some((matcher, kinds)) = &*PHRASES else {
        return found_phrases;
    };
    for found in matcher.find_iter(&lower) {
        let id = found.pattern().as_usize();
        // Whole words only: `insurgent` is not urgent, `btcl` is not bitcoin.
        let before = lower[..found.start()].chars().next_back();
        let after = lower[found.end()..].chars().next();
        if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        let list = match kinds[id] {
            Kind::Urgency => &mut found_phrases.urgency,
            Kind::Credentials => &mut found_phrases.credentials,
            Kind::Lure => &mut found_phrases.lure,
        };
        let phrase = phrase(id);
        if !list.contains(&phrase) {
            list.push(phrase);
        }
    }
    found_phrases
}

fn phrase(id: usize) -> &'static str {
    URGENCY
        .iter()
        .chain(CREDENTIALS)
        .chain(LURE)
        .nth(id)
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_phrases_in_several_languages() {
        let found =
            pressure("URGENT: Your account will be suspended. Please verify your account now.");
        assert_eq!(found.urgency, vec!["urgent", "account will be suspended"]);
        assert_eq!(found.credentials, vec!["verify your account"]);
        let found = pressure("Ihr Konto wird gesperrt! Bestätigen Sie Ihr Konto.");
        assert_eq!(found.urgency, vec!["konto wird gesperrt"]);
        assert_eq!(found.credentials, vec!["bestätigen sie ihr konto"]);
        let found =
            pressure("Atualize seus dados e confirme sua identidade. Parabéns, você ganhou!");
        assert_eq!(
            found.credentials,
            vec!["atualize seus dados", "confirme sua identidade"]
        );
        assert_eq!(found.lure, vec!["parabéns", "você ganhou"]);
        assert_eq!(
            pressure("insurgent lunch plans, urgently"),
            Pressure::default()
        );
    }
}
