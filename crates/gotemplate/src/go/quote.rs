//! Go's `strconv.Unquote` for the `"..."` literals of template actions.

/// Unquotes a double-quoted Go string literal (quotes included); Go's "invalid syntax" otherwise.
pub fn unquote(raw: &str) -> Result<String, String> {
    let bad = || "invalid syntax".to_string();
    let body = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).ok_or_else(bad)?;
    let mut out = String::with_capacity(body.len());
    let mut bytes: Vec<u8> = Vec::new();
    let mut it = body.chars().peekable();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    let hex = |it: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v * 16 + it.next().and_then(|c| c.to_digit(16)).ok_or_else(bad)?;
        }
        Ok(v)
    };
    while let Some(c) = it.next() {
        if c == '"' || c == '\n' {
            return Err(bad());
        }
        if c != '\\' {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let e = it.next().ok_or_else(bad)?;
        let simple = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(s) = simple {
            flush(&mut bytes, &mut out);
            out.push(s);
            continue;
        }
        match e {
            'x' => bytes.push(hex(&mut it, 2)? as u8),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    v = v * 8 + it.next().and_then(|c| c.to_digit(8)).ok_or_else(bad)?;
                }
                if v > 255 {
                    return Err(bad());
                }
                bytes.push(v as u8);
            }
            'u' | 'U' => {
                let v = hex(&mut it, if e == 'u' { 4 } else { 8 })?;
                flush(&mut bytes, &mut out);
                out.push(char::from_u32(v).ok_or_else(bad)?);
            }
            _ => return Err(bad()),
        }
    }
    flush(&mut bytes, &mut out);
    Ok(out)
}
