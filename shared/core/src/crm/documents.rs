//! Brazilian taxpayer numbers: CPF (11 digits) and CNPJ (14 digits) with their check
//! digits (Receita Federal's modulo-11 rule).

/// The digits of `raw` when they form a CPF or CNPJ with valid check digits.
pub fn cpf_or_cnpj(raw: &str) -> Option<String> {
    let digits: Vec<u32> = raw.chars().filter_map(|c| c.to_digit(10)).collect();
    if raw.chars().any(|c| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '/' | ' '))) {
        return None;
    }
    let valid = match digits.len() {
        11 => check(&digits, &[10, 9, 8, 7, 6, 5, 4, 3, 2], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]),
        14 => check(&digits, &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]),
        _ => false,
    };
    valid.then(|| digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect())
}

fn check(digits: &[u32], first: &[u32], second: &[u32]) -> bool {
    // Repeated digits (000.000.000-00, ...) pass the arithmetic but are not issued.
    if digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let dv = |weights: &[u32]| {
        let sum: u32 = weights.iter().zip(digits).map(|(w, d)| w * d).sum();
        let r = sum % 11;
        if r < 2 { 0 } else { 11 - r }
    };
    dv(first) == digits[first.len()] && dv(second) == digits[second.len()]
}

#[cfg(test)]
mod tests {
    use super::cpf_or_cnpj;

    #[test]
    fn valid_numbers_pass_with_or_without_punctuation_and_wrong_digits_fail() {
        assert_eq!(cpf_or_cnpj("529.982.247-25").as_deref(), Some("52998224725"));
        assert_eq!(cpf_or_cnpj("11.222.333/0001-81").as_deref(), Some("11222333000181"));
        assert_eq!(cpf_or_cnpj("529.982.247-26"), None);
        assert_eq!(cpf_or_cnpj("111.111.111-11"), None);
        assert_eq!(cpf_or_cnpj("abc52998224725"), None);
        assert_eq!(cpf_or_cnpj("1234"), None);
    }
}
