//! Names in URLs: Grafana's slug of a title (`/d/<uid>/<slug>`), generated uids and the check
//! of given ones (they also name files on disk).

/// Lower case, letters and digits kept (common accented letters without their accent), every
/// other run of characters one `-`.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A new uid: 14 random letters and digits.
pub fn new_uid() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 14];
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        bytes.iter_mut().enumerate().for_each(|(i, b)| *b = (t >> (i * 5)) as u8);
    }
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// Grafana's rule for uids: at most 40 characters of letters, digits, `-` and `_`.
pub fn check_uid(uid: &str) -> Result<(), String> {
    if uid.is_empty() || uid.len() > 40 {
        return Err(format!("uid {uid:?} must have 1 to 40 characters"));
    }
    if let Some(c) = uid.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(format!("uid {uid:?} may only contain letters, digits, '-' and '_', not {c:?}"));
    }
    Ok(())
}

/// A uid derived from a name (provisioned folders and files without one).
pub fn uid_from(name: &str) -> String {
    let s = slugify(name);
    let s = if s.is_empty() { "x".to_string() } else { s };
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Overview of Bitácora"), "overview-of-bitacora");
        assert_eq!(slugify("  Dokku host / errors!! "), "dokku-host-errors");
        assert!(check_uid(&new_uid()).is_ok());
        assert!(check_uid("../etc").is_err());
        assert!(check_uid(&"a".repeat(41)).is_err());
    }
}
