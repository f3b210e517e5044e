//! Phone numbers: E.164, with Brazil's mobile ninth digit handled so one person is one
//! contact whichever form WhatsApp or an agent used.
//!
//! Brazilian mobiles gained a leading `9` (2012–2016): `+55 DD 9XXXX-XXXX` (13 digits with
//! the country code). WhatsApp ids of older accounts still come without it
//! (`55 DD XXXX-XXXX`, 12 digits, subscriber starting 6–9). [`normalize`] always returns the
//! 13-digit form for those, so both spellings meet; landlines (subscriber starting 2–5)
//! keep 12 digits.

/// Why a number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a phone number: {0}")]
pub struct InvalidPhone(pub &'static str);

/// E.164 (`+<digits>`) of `raw`, which may carry spaces, dashes, brackets, a leading `+` or
/// `00`. Numbers without a country code are taken as Brazilian when they have 10–11 digits.
pub fn normalize(raw: &str) -> Result<String, InvalidPhone> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(InvalidPhone("empty"));
    }
    if !trimmed.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return Err(InvalidPhone("only digits, spaces, + - ( ) . are allowed"));
    }
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = trimmed.starts_with('+') || digits.starts_with("00");
    if let Some(rest) = digits.strip_prefix("00") {
        digits = rest.to_owned();
    }
    if !international && (digits.len() == 10 || digits.len() == 11) && !digits.starts_with('0') {
        digits = format!("55{digits}");
    }
    if digits.len() < 8 || digits.len() > 15 || digits.starts_with('0') {
        return Err(InvalidPhone("E.164 numbers have 8 to 15 digits"));
    }
    if let Some(national) = digits.strip_prefix("55") {
        digits = format!("55{}", brazil(national)?);
    }
    Ok(format!("+{digits}"))
}

/// A Brazilian national number (area code + subscriber) in its canonical form.
fn brazil(national: &str) -> Result<String, InvalidPhone> {
    let area = national.get(..2).ok_or(InvalidPhone("Brazilian numbers need an area code"))?;
    if area.starts_with('0') || area.ends_with('0') {
        return Err(InvalidPhone("Brazilian area codes are 11 to 99 without zeros"));
    }
    let subscriber = &national[2..];
    match subscriber.len() {
        9 if subscriber.starts_with('9') => Ok(national.to_owned()),
        8 if matches!(subscriber.as_bytes()[0], b'6'..=b'9') => Ok(format!("{area}9{subscriber}")),
        8 => Ok(national.to_owned()),
        _ => Err(InvalidPhone("Brazilian numbers have 10 or 11 digits after the country code")),
    }
}

/// The WhatsApp id (digits, no `+`) for an E.164 number.
pub fn wa_id_of(e164: &str) -> String {
    e164.trim_start_matches('+').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_a_brazilian_mobile_meet() {
        assert_eq!(normalize("5511987654321").unwrap(), "+5511987654321");
        assert_eq!(normalize("551187654321").unwrap(), "+5511987654321");
        assert_eq!(normalize("+55 (11) 98765-4321").unwrap(), "+5511987654321");
        assert_eq!(normalize("(11) 98765-4321").unwrap(), "+5511987654321");
        assert_eq!(normalize("11 8765-4321").unwrap(), "+5511987654321");
    }

    #[test]
    fn brazilian_landlines_keep_eight_digits() {
        assert_eq!(normalize("+55 11 3456-7890").unwrap(), "+551134567890");
    }

    #[test]
    fn other_countries_pass_through() {
        assert_eq!(normalize("972987654321").unwrap(), "+972987654321");
        assert_eq!(normalize("+1 415 555 0100").unwrap(), "+14155550100");
        assert_eq!(normalize("0044 20 7946 0958").unwrap(), "+442079460958");
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in ["", "abc", "+12", "+1234567890123456", "55 01 98765-4321", "555"] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn any_input_is_normalised_or_refused_never_a_panic(raw in ".{0,40}") {
            if let Ok(e164) = normalize(&raw) {
                prop_assert!(e164.starts_with('+'));
                prop_assert!(e164[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!((9..=16).contains(&e164.len()));
            }
        }

        #[test]
        fn normalising_is_idempotent(raw in "[+0-9 ()-]{0,24}") {
            if let Ok(once) = normalize(&raw) {
                prop_assert_eq!(normalize(&once).unwrap(), once);
            }
        }

        #[test]
        fn a_brazilian_mobile_meets_itself_with_or_without_the_ninth_digit(tens in 1u32..=9, units in 1u32..=9, rest in 60_000_000u32..=99_999_999) {
            // Only valid area codes (no zero digit) are generated: rejecting inputs would
            // make the run depend on proptest's global reject limit.
            let area = tens * 10 + units;
            let with = format!("+55{area}9{rest}");
            let without = format!("55{area}{rest}");
            prop_assert_eq!(normalize(&with).unwrap(), normalize(&without).unwrap());
        }
    }
}
