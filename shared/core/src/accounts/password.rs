//! Password hashing (argon2id, PHC strings).

use crate::secret::Secret;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

pub const MIN_PASSWORD_LEN: usize = 8;

pub fn validate(password: &Secret) -> Result<(), String> {
    let len = password.expose().chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!("a password needs at least {MIN_PASSWORD_LEN} characters"));
    }
    if len > 256 {
        return Err("a password has at most 256 characters".into());
    }
    Ok(())
}

pub fn hash(password: &Secret) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        // Hashing only fails for out-of-range parameters, which the defaults are not.
        .unwrap_or_default()
}

pub fn verify(password: &Secret, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one verification, so a login for an unknown email takes as long as
/// one with a wrong password (no account enumeration by timing).
pub fn verify_dummy(password: &Secret) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash(&Secret::new("dummy-password-for-timing")));
    let _ = verify(password, phc);
}
