"""File extension → Content-Type.

The table is ours rather than :mod:`mimetypes` because the standard library's
answer depends on the host (``/etc/mime.types``, the Windows registry), so two
machines could label the same file differently; and it lacks or misnames
modern web types (``.mjs``, ``.wasm``, ``.avif``, ``.jxl``, ``.webmanifest``).
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_TYPE = "application/octet-stream"

MEDIA_TYPES: dict[str, str] = {
    # text and code
    ".css": "text/css",
    ".csv": "text/csv",
    ".htm": "text/html",
    ".html": "text/html",
    ".ics": "text/calendar",
    ".js": "text/javascript",
    ".cjs": "text/javascript",
    ".mjs": "text/javascript",
    ".jsx": "text/javascript",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".map": "application/json",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".vtt": "text/vtt",
    ".xml": "application/xml",
    ".xsl": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".webmanifest": "application/manifest+json",
    ".appcache": "text/cache-manifest",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".ts": "text/javascript",  # nominally MPEG-TS; in a static dir it is TypeScript source
    ".wasm": "application/wasm",
    # images
    ".apng": "image/apng",
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".ico": "image/vnd.microsoft.icon",
    ".cur": "image/x-icon",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".jfif": "image/jpeg",
    ".jxl": "image/jxl",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".svgz": "image/svg+xml",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    # fonts
    ".eot": "application/vnd.ms-fontobject",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    # audio and video
    ".aac": "audio/aac",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mid": "audio/midi",
    ".midi": "audio/midi",
    ".mp3": "audio/mpeg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".weba": "audio/webm",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mpeg": "video/mpeg",
    ".ogv": "video/ogg",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".3gp": "video/3gpp",
    # documents and archives
    ".pdf": "application/pdf",
    ".epub": "application/epub+zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".br": "application/x-brotli",
    ".zst": "application/zstd",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".7z": "application/x-7z-compressed",
    ".tar": "application/x-tar",
    ".rar": "application/vnd.rar",
    ".jar": "application/java-archive",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
    ".swf": "application/x-shockwave-flash",
    ".bin": "application/octet-stream",
    # The rest of nginx's mime.types (and WhiteNoise's table, which copies it):
    # older or rarer formats, labelled as those servers label them.
    ".3gpp": "video/3gpp",
    ".ai": "application/postscript",
    ".asf": "video/x-ms-asf",
    ".asx": "video/x-ms-asf",
    ".avi": "video/x-msvideo",
    ".cco": "application/x-cocoa",
    ".crt": "application/x-x509-ca-cert",
    ".der": "application/x-x509-ca-cert",
    ".ear": "application/java-archive",
    ".eps": "application/postscript",
    ".flv": "video/x-flv",
    ".hqx": "application/mac-binhex40",
    ".htc": "text/x-component",
    ".jad": "text/vnd.sun.j2me.app-descriptor",
    ".jardiff": "application/x-java-archive-diff",
    ".jng": "image/x-jng",
    ".jnlp": "application/x-java-jnlp-file",
    ".kar": "audio/midi",
    ".kml": "application/vnd.google-earth.kml+xml",
    ".kmz": "application/vnd.google-earth.kmz",
    ".mml": "text/mathml",
    ".mng": "video/x-mng",
    ".mpg": "video/mpeg",
    ".odg": "application/vnd.oasis.opendocument.graphics",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".pdb": "application/x-pilot",
    ".pem": "application/x-x509-ca-cert",
    ".pl": "application/x-perl",
    ".pm": "application/x-perl",
    ".prc": "application/x-pilot",
    ".ps": "application/postscript",
    ".ra": "audio/x-realaudio",
    ".rpm": "application/x-redhat-package-manager",
    ".run": "application/x-makeself",
    ".sea": "application/x-sea",
    ".shtml": "text/html",
    ".sit": "application/x-stuffit",
    ".tcl": "application/x-tcl",
    ".tk": "application/x-tcl",
    ".war": "application/java-archive",
    ".wbmp": "image/vnd.wap.wbmp",
    ".wml": "text/vnd.wap.wml",
    ".wmlc": "application/vnd.wap.wmlc",
    ".wmv": "video/x-ms-wmv",
    ".xhtml": "application/xhtml+xml",
    ".xpi": "application/x-xpinstall",
    ".xspf": "application/xspf+xml",
}

# Whole file names with a type of their own (checked before the extension).
FILE_NAME_TYPES: dict[str, str] = {
    # Apple documents application/json (WhiteNoise sends "application/pkc7-mime",
    # a misspelling from the signed-file era; unsigned JSON is what iOS reads now).
    "apple-app-site-association": "application/json",
    # Adobe's cross-domain policy spec requires this type for policy files.
    "crossdomain.xml": "text/x-cross-domain-policy",
}

# Types that are text without saying so in their top-level type.
_TEXTUAL_APPLICATION_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "application/xml",
        "application/xhtml+xml",
        "application/xspf+xml",
        "application/vnd.google-earth.kml+xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/yaml",
        "application/vnd.apple.mpegurl",
        "image/svg+xml",
    }
)

# Already-compressed formats: compressing them again wastes build time and bytes.
INCOMPRESSIBLE_EXTENSIONS = frozenset(
    {
        ".apng", ".avif", ".gif", ".heic", ".heif", ".jpeg", ".jpg", ".jfif", ".jxl",
        ".png", ".webp", ".svgz", ".woff", ".woff2", ".aac", ".flac", ".m4a", ".mp3",
        ".oga", ".ogg", ".opus", ".weba", ".mp4", ".m4v", ".mpeg", ".ogv", ".mov",
        ".webm", ".3gp", ".zip", ".gz", ".tgz", ".br", ".zst", ".bz2", ".xz", ".7z",
        ".rar", ".jar", ".epub", ".docx", ".xlsx", ".pptx", ".odt", ".pdf", ".swf",
    }
)  # fmt: skip


def is_text_type(media_type: str) -> bool:
    """True when a charset parameter belongs on this type."""
    return media_type.startswith("text/") or media_type in _TEXTUAL_APPLICATION_TYPES


def extension_of(name: str) -> str:
    """Lower-cased last extension of a file name, with its dot ('' if none)."""
    base = name.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def media_type_for(
    name: str,
    overrides: Mapping[str, str] | None = None,
    charset: str | None = "utf-8",
) -> str:
    """The full Content-Type value for a file name.

    ``overrides`` maps an extension (``".foo"``) or a whole file name
    (``"apple-app-site-association"``) to a media type; it wins over the table.
    """
    ext = extension_of(name)
    media_type = None
    if overrides:
        media_type = overrides.get(name.rsplit("/", 1)[-1]) or overrides.get(ext)
    if media_type is None:
        media_type = FILE_NAME_TYPES.get(name.rsplit("/", 1)[-1]) or MEDIA_TYPES.get(
            ext, DEFAULT_TYPE
        )
    if charset and is_text_type(media_type) and "charset=" not in media_type:
        return f"{media_type}; charset={charset}"
    return media_type


def is_compressible(name: str) -> bool:
    """Whether building compressed siblings for this file is worth trying."""
    return extension_of(name) not in INCOMPRESSIBLE_EXTENSIONS
