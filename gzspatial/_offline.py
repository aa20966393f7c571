"""Inline every JS/CSS asset of a folium page, for maps that must work without the internet.

folium links its assets (Leaflet, plugins, CSS) from CDNs. The folium-offline package ships the
same files, keyed by those CDN addresses; this module swaps each link for the file's text. CSS
references to fonts and images that are not embedded are neutralised, so a page with no tile
layer makes no network request at all.
"""

from __future__ import annotations

import re

from gzspatial._errors import GzError
from gzspatial.i18n import _

_SCRIPT = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>')
_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>[^"]+)"\s*/?>')
# url(...) in CSS that is not a data: URI or an in-page reference (#...)
_CSS_URL = re.compile(r"""url\(\s*(?!['"]?(?:data:|#))[^)]*\)""")


def _assets() -> dict[str, str]:
    from offlinefolium import elements

    return elements._res


def inline_assets(page: str) -> str:
    """``page`` with every <script src> and stylesheet <link> replaced by the asset's text.

    Raises GzError naming any asset that is not available offline.
    """
    assets = _assets()
    missing = sorted({m["url"] for m in (*_SCRIPT.finditer(page), *_STYLESHEET.finditer(page))} - set(assets))
    if missing:
        raise GzError(
            _("no offline copy of {missing}: this map cannot be made self-contained").format(missing=", ".join(missing))
        )

    def script(match: re.Match) -> str:
        return "<script>" + assets[match["url"]].replace("</script", "<\\/script") + "</script>"

    def stylesheet(match: re.Match) -> str:
        css = _CSS_URL.sub("url(data:,)", assets[match["url"]])
        return "<style>" + css.replace("</style", "<\\/style") + "</style>"

    return _STYLESHEET.sub(stylesheet, _SCRIPT.sub(script, page))
