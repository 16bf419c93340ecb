//! Attachments that carry attacks: pages and scripts that open in a
//! browser or run, disk images and shortcuts that slip past filters,
//! macro-enabled Office documents and archives locked with a password.
//! Judged by name and by content, never by the sender's content type alone.

/// Why an attachment is risky, as the reason's evidence names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Risk {
    Executable,
    Script,
    Html,
    Svg,
    DiskImage,
    Shortcut,
    MacroOffice,
    EncryptedArchive,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Executable => "executable",
            Risk::Script => "script",
            Risk::Html => "html",
            Risk::Svg => "svg",
            Risk::DiskImage => "disk image",
            Risk::Shortcut => "shortcut",
            Risk::MacroOffice => "macro-enabled office document",
            Risk::EncryptedArchive => "encrypted archive",
        }
    }

    /// How much the risk adds to a message's score.
    pub fn weight(self) -> u32 {
        match self {
            Risk::Executable | Risk::Shortcut | Risk::DiskImage => 40,
            Risk::Script | Risk::MacroOffice | Risk::EncryptedArchive => 35,
            Risk::Html | Risk::Svg => 30,
        }
    }
}

/// The risk of an attachment called `name` with `content_type` and `data`.
pub fn risk(name: &str, content_type: &str, data: &[u8]) -> Option<Risk> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    let by_name = match extension {
        "exe" | "scr" | "com" | "pif" | "msi" | "dll" | "cpl" | "jar" | "apk" | "app" => {
            Some(Risk::Executable)
        }
        "js" | "jse" | "vbs" | "vbe" | "wsf" | "wsh" | "hta" | "ps1" | "bat" | "cmd" | "sh"
        | "reg" => Some(Risk::Script),
        "htm" | "html" | "shtml" | "xhtml" | "mht" | "mhtml" => Some(Risk::Html),
        "svg" | "svgz" => Some(Risk::Svg),
        "iso" | "img" | "vhd" | "vhdx" | "dmg" => Some(Risk::DiskImage),
        "lnk" | "url" | "scf" | "library-ms" | "search-ms" | "settingcontent-ms" | "one" => {
            Some(Risk::Shortcut)
        }
        "docm" | "dotm" | "xlsm" | "xltm" | "xlam" | "pptm" | "potm" | "ppam" | "ppsm" | "sldm" => {
            Some(Risk::MacroOffice)
        }
        _ => None,
    };
    if by_name.is_some() {
        return by_name;
    }
    let content_type = content_type.to_ascii_lowercase();
    if data.starts_with(b"MZ") {
        return Some(Risk::Executable);
    }
    if content_type == "text/html" || sniff_html(data) {
        return Some(Risk::Html);
    }
    if content_type == "image/svg+xml" {
        return Some(Risk::Svg);
    }
    if data.starts_with(b"PK\x03\x04") {
        if zip_encrypted(data) {
            return Some(Risk::EncryptedArchive);
        }
        if contains(data, b"vbaProject.bin") {
            return Some(Risk::MacroOffice);
        }
    }
    // An old binary Office file (OLE2) holding a VBA project.
    if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) && contains(data, b"_VBA_PROJECT") {
        return Some(Risk::MacroOffice);
    }
    None
}

fn sniff_html(data: &[u8]) -> bool {
    let head = &data[..data.len().min(512)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with("<script")
}

/// Whether any local file header of a ZIP archive has its encryption flag.
fn zip_encrypted(data: &[u8]) -> bool {
    let mut at = 0;
    let mut seen = 0;
    while let Some(offset) = memchr::memmem::find(&data[at..], b"PK\x03\x04") {
        let header = at + offset;
        if let Some(flags) = data.get(header + 6..header + 8) {
            if flags[0] & 1 == 1 {
                return true;
            }
        }
        at = header + 4;
        seen += 1;
        if seen > 1_000 {
            break;
        }
    }
    false
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_and_by_content() {
        assert_eq!(
            risk("Invoice.PDF.exe", "application/pdf", b""),
            Some(Risk::Executable)
        );
        assert_eq!(
            risk("scan.html", "application/octet-stream", b""),
            Some(Risk::Html)
        );
        assert_eq!(
            risk(
                "fax",
                "application/octet-stream",
                b"  <!DOCTYPE html><html>"
            ),
            Some(Risk::Html)
        );
        assert_eq!(risk("payment.iso", "", b""), Some(Risk::DiskImage));
        assert_eq!(risk("doc.lnk", "", b""), Some(Risk::Shortcut));
        assert_eq!(risk("q3.xlsm", "", b""), Some(Risk::MacroOffice));
        assert_eq!(
            risk("logo.svg", "image/svg+xml", b"<svg/>"),
            Some(Risk::Svg)
        );
        assert_eq!(risk("report.pdf", "application/pdf", b"%PDF-1.7"), None);
        assert_eq!(risk("photo.jpg", "image/jpeg", b"\xff\xd8\xff"), None);
    }

    #[test]
    fn encrypted_zip_and_macro_documents() {
        let mut zip = b"PK\x03\x04\x14\x00\x01\x00".to_vec();
        zip.extend_from_slice(&[0; 30]);
        assert_eq!(
            risk("invoice.zip", "application/zip", &zip),
            Some(Risk::EncryptedArchive)
        );
        let mut plain = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
        plain.extend_from_slice(b"word/vbaProject.bin");
        assert_eq!(risk("invoice.docx", "", &plain), Some(Risk::MacroOffice));
        plain.truncate(8);
        assert_eq!(risk("photos.zip", "", &plain), None);
    }
}
