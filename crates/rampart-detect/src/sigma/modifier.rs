//! Sigma value modifiers (`Field|contains|all`), parsed and checked for
//! combinations the matcher cannot honour.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    /// Regex flags, written after `re`: `re|i`, `re|m`, `re|s`.
    ReIgnoreCase,
    ReMultiLine,
    ReDotAll,
    Cidr,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Wide,
    WinDash,
    Exists,
    Gt,
    Gte,
    Lt,
    Lte,
    FieldRef,
    Cased,
    Expand,
}

impl Modifier {
    pub fn parse(name: &str, after_re: bool) -> Option<Modifier> {
        use Modifier::*;
        Some(match name {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "re" => Re,
            "i" if after_re => ReIgnoreCase,
            "m" if after_re => ReMultiLine,
            "s" if after_re => ReDotAll,
            "cidr" => Cidr,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "wide" => Wide,
            "windash" => WinDash,
            "exists" => Exists,
            "gt" => Gt,
            "gte" => Gte,
            "lt" => Lt,
            "lte" => Lte,
            "fieldref" => FieldRef,
            "cased" => Cased,
            "expand" => Expand,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "contains",
            StartsWith => "startswith",
            EndsWith => "endswith",
            All => "all",
            Re => "re",
            ReIgnoreCase => "i",
            ReMultiLine => "m",
            ReDotAll => "s",
            Cidr => "cidr",
            Base64 => "base64",
            Base64Offset => "base64offset",
            Utf16Le => "utf16le",
            Utf16Be => "utf16be",
            Utf16 => "utf16",
            Wide => "wide",
            WinDash => "windash",
            Exists => "exists",
            Gt => "gt",
            Gte => "gte",
            Lt => "lt",
            Lte => "lte",
            FieldRef => "fieldref",
            Cased => "cased",
            Expand => "expand",
        }
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The modifiers of one field key, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modifiers(pub Vec<Modifier>);

impl Modifiers {
    /// Parses the `|`-separated modifier names after a field name.
    pub fn parse<'a>(names: impl Iterator<Item = &'a str>) -> Result<Modifiers, String> {
        let mut list = Vec::new();
        let mut after_re = false;
        for name in names {
            let modifier = Modifier::parse(name, after_re)
                .ok_or_else(|| format!("unsupported value modifier `{name}`"))?;
            after_re |= modifier == Modifier::Re;
            if list.contains(&modifier) {
                return Err(format!("modifier `{name}` given twice"));
            }
            list.push(modifier);
        }
        let modifiers = Modifiers(list);
        modifiers.check()?;
        Ok(modifiers)
    }

    pub fn has(&self, m: Modifier) -> bool {
        self.0.contains(&m)
    }

    /// Refuses combinations with no defined meaning.
    fn check(&self) -> Result<(), String> {
        use Modifier::*;
        let position = [Contains, StartsWith, EndsWith];
        let positions = self.0.iter().filter(|m| position.contains(m)).count();
        if positions > 1 {
            return Err("only one of contains, startswith and endswith may be given".into());
        }
        let exclusive = [Re, Cidr, Exists, Gt, Gte, Lt, Lte, FieldRef];
        let kinds: Vec<Modifier> = self
            .0
            .iter()
            .copied()
            .filter(|m| exclusive.contains(m))
            .collect();
        if kinds.len() > 1 {
            return Err(format!(
                "modifiers `{}` and `{}` cannot be combined",
                kinds[0], kinds[1]
            ));
        }
        if let Some(kind) = kinds.first() {
            let allowed: &[Modifier] = match kind {
                Re => &[Re, ReIgnoreCase, ReMultiLine, ReDotAll, All],
                Cidr => &[Cidr, All],
                Exists => &[Exists],
                FieldRef => &[FieldRef, Contains, StartsWith, EndsWith, Cased, All],
                _ => &[Gt, Gte, Lt, Lte, All],
            };
            if let Some(other) = self.0.iter().find(|m| !allowed.contains(m)) {
                return Err(format!("modifier `{other}` cannot be used with `{kind}`"));
            }
        }
        Ok(())
    }
}
