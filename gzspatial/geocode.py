"""Online geocoding (opt-in): Amap, Baidu and Tianditu, results converted exactly to WGS84.

One small class per provider turns an address into that provider's documented request and reads
its documented response (status codes, location, match level, score). :class:`Geocoder` adds what
every provider needs: the key (never printed, logged or stored), a rate limit, retries with
backoff on timeouts and 5xx, a clear stop on an invalid key or an exhausted quota, and a SQLite
cache keyed by provider + normalised address + city so that reruns cost nothing.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gzspatial import crs as _crs
from gzspatial._errors import GzError, InputError
from gzspatial.i18n import _

log = logging.getLogger(__name__)


class Level(StrEnum):
    """The shared match-level scale, finest first (``gz_geocode_level``). After STREET: coarse, never a site."""

    HOUSE_NUMBER = "house_number"
    POI = "poi"
    STREET = "street"
    AREA = "area"
    TOWN = "town"
    DISTRICT = "district"
    CITY = "city"
    PROVINCE = "province"
    COUNTRY = "country"
    UNKNOWN = "unknown"


class ProviderName(StrEnum):
    """The geocoding services (``--geocoder``, ``gz_geocode_source``)."""

    AMAP = "amap"
    BAIDU = "baidu"
    TIANDITU = "tianditu"


#: Level names as plain text, the way they are written to data.
LEVELS = tuple(level.value for level in Level)
SITE_LEVELS = frozenset(LEVELS[:3])
CITY = "广州市"
#: Requests per second when --qps is not given: below each provider's free-tier limit.
DEFAULT_QPS = 2.0
CACHE_ENV = "GZ_GEOCODE_CACHE"


class GeocodeError(GzError):
    """The geocoding service refused to go on (invalid key, exhausted quota, unreachable)."""


class _RetryError(Exception):
    """A transient failure (timeout, 5xx, rate limit): try again after a pause."""


@dataclass(frozen=True)
class Result:
    """One geocoded address: WGS84 degrees, the shared ``level`` and the provider's own, a score."""

    lon: float
    lat: float
    level: str
    provider_level: str
    score: float | None
    source: str

    @property
    def coarse(self) -> bool:
        return self.level not in SITE_LEVELS


@dataclass(frozen=True)
class Answer:
    """What one address gave: a result, or None and a note saying why."""

    result: Result | None
    note: str = ""


# --- providers ----------------------------------------------------------------------------


class Provider(ABC):
    """What differs between services: URL, parameters, response shape, coordinate system."""

    name = ""
    env_key = ""
    url = ""
    crs = _crs.WGS84
    level_map: ClassVar[dict[str, str]] = {}

    @abstractmethod
    def params(self, address: str, city: str, key: str) -> dict[str, str]:
        """The request's query parameters for ``address`` in ``city``."""

    @abstractmethod
    def parse(self, payload: dict) -> Answer:
        """The provider's JSON answer read into an Answer (or a GeocodeError for its error codes)."""

    def level(self, provider_level: str) -> str:
        return self.level_map.get(provider_level, Level.POI.value if provider_level else Level.UNKNOWN.value)

    def result(self, lon, lat, provider_level: str, score) -> Result:
        w_lon, w_lat = _crs.transform(float(lon), float(lat), self.crs, _crs.WGS84)
        score = None if score in (None, "") else float(score)
        return Result(round(w_lon, 8), round(w_lat, 8), self.level(provider_level), provider_level, score, self.name)


class Amap(Provider):
    """Amap (高德) Web service v3 ``geocode/geo``: GCJ-02; status/info/infocode, geocodes[]."""

    name, env_key, url, crs = (
        ProviderName.AMAP.value,
        "GZ_AMAP_KEY",
        "https://restapi.amap.com/v3/geocode/geo",
        _crs.GCJ02,
    )
    level_map: ClassVar[dict[str, str]] = {
        "门牌号": "house_number",
        "单元号": "house_number",
        "兴趣点": "poi",
        "公交站台、地铁站": "poi",
        "道路": "street",
        "道路交叉路口": "street",
        "热点商圈": "area",
        "开发区": "area",
        "村庄": "town",
        "乡镇": "town",
        "区县": "district",
        "市": "city",
        "省": "province",
        "国家": "country",
        "未知": "unknown",
    }
    _KEY: ClassVar[set[str]] = {
        "10001",
        "10002",
        "10005",
        "10006",
        "10007",
        "10008",
        "10009",
        "10012",
        "10013",
        "10026",
        "10041",
    }
    _QUOTA: ClassVar[set[str]] = {"10003", "10010", "10029", "10044", "10045"}
    _RETRY: ClassVar[set[str]] = {"10004", "10014", "10015", "10016", "10019", "10020", "10021"}

    def params(self, address: str, city: str, key: str) -> dict[str, str]:
        return {"key": key, "address": address, "city": city, "output": "JSON"}

    def parse(self, payload: dict) -> Answer:
        if str(payload.get("status")) != "1":
            code, info = str(payload.get("infocode")), payload.get("info", "")
            if code in self._RETRY:
                raise _RetryError(f"amap {code} {info}")
            if code in self._KEY:
                raise GeocodeError(
                    _("amap refused the key ({code} {info}): check --key or GZ_AMAP_KEY").format(code=code, info=info)
                )
            if code in self._QUOTA:
                raise GeocodeError(
                    _("amap quota exhausted ({code} {info}): rerun later, the cache keeps what was done").format(
                        code=code, info=info
                    )
                )
            return Answer(None, f"amap error {code} {info}")
        found = [g for g in payload.get("geocodes") or [] if isinstance(g.get("location"), str) and g["location"]]
        if not found:
            return Answer(None, "amap found no match")
        places = {g.get("adcode") or g.get("district") for g in found}
        if len(places) > 1:
            return Answer(None, f"amap gave {len(found)} matches in different districts: not used")
        first = found[0]
        lon, lat = first["location"].split(",")
        note = f"amap gave {len(found)} matches in one district; first used" if len(found) > 1 else ""
        return Answer(self.result(lon, lat, first.get("level") or "", None), note)


class Baidu(Provider):
    """Baidu geocoding v3: BD-09 (bd09ll) unless ``coordtype='gcj02ll'``; status, result{location,
    precise, confidence, comprehension, level}."""

    name, env_key, url = ProviderName.BAIDU.value, "GZ_BAIDU_AK", "https://api.map.baidu.com/geocoding/v3/"
    level_map: ClassVar[dict[str, str]] = {
        "门址": "house_number",
        "道路": "street",
        "交叉路口": "street",
        "桥": "street",
        "商圈": "area",
        "乡镇": "town",
        "村庄": "town",
        "区县": "district",
        "城市": "city",
        "省份": "province",
        "国家": "country",
        "UNKNOWN": "unknown",
        "NoClass": "unknown",
    }
    #: Below this comprehension (0-100, Baidu's recommended quality measure) a result is not used.
    MIN_COMPREHENSION = 50

    def __init__(self, coordtype: str = "bd09ll") -> None:
        if coordtype not in ("bd09ll", "gcj02ll"):
            raise InputError(
                _("baidu coordtype {coordtype!r} is not supported: use bd09ll or gcj02ll").format(coordtype=coordtype)
            )
        self.coordtype = coordtype
        self.crs = _crs.BD09 if coordtype == "bd09ll" else _crs.GCJ02

    def params(self, address: str, city: str, key: str) -> dict[str, str]:
        params = {"address": address, "city": city, "output": "json", "ak": key}
        if self.coordtype != "bd09ll":
            params["ret_coordtype"] = self.coordtype
        return params

    def parse(self, payload: dict) -> Answer:
        status = int(payload.get("status", -1))
        message = payload.get("msg") or payload.get("message") or ""
        if status in (401, 402):
            raise _RetryError(f"baidu {status} {message}")
        if status in (3, 5, 101, 102) or 200 <= status < 300:
            raise GeocodeError(
                _("baidu refused the key ({status} {message}): check --key or GZ_BAIDU_AK").format(
                    status=status, message=message
                )
            )
        if status in (4, 302) or 300 <= status < 400:
            raise GeocodeError(
                _("baidu quota exhausted ({status} {message}): rerun later, the cache keeps what was done").format(
                    status=status, message=message
                )
            )
        if status == 1:
            return Answer(None, f"baidu found no match ({message})" if message else "baidu found no match")
        if status != 0:
            return Answer(None, f"baidu error {status} {message}")
        result = payload.get("result") or {}
        location = result.get("location") or {}
        if "lng" not in location:
            return Answer(None, "baidu found no match")
        comprehension = result.get("comprehension")
        if comprehension is not None and float(comprehension) < self.MIN_COMPREHENSION:
            return Answer(None, f"baidu understood the address poorly (comprehension {comprehension}): not used")
        fuzzy = "" if result.get("precise", 1) else "baidu match is fuzzy (precise=0)"
        return Answer(
            self.result(location["lng"], location["lat"], result.get("level") or "", result.get("confidence")), fuzzy
        )


class Tianditu(Provider):
    """Tianditu (天地图) geocoder: CGCS2000; ``ds={"keyWord": ...}``, ``tk``; status, location{lon, lat,
    level, score}."""

    name, env_key, url, crs = (
        ProviderName.TIANDITU.value,
        "GZ_TIANDITU_KEY",
        "https://api.tianditu.gov.cn/geocoder",
        _crs.CGCS2000,
    )
    level_map: ClassVar[dict[str, str]] = {
        "门址": "house_number",
        "兴趣点": "poi",
        "道路": "street",
        "乡镇": "town",
        "区县": "district",
        "地级市": "city",
        "城市": "city",
        "省": "province",
        "国家": "country",
    }

    def params(self, address: str, city: str, key: str) -> dict[str, str]:
        keyword = address if "广州" in address or not city else f"{city}{address}"
        return {"ds": json.dumps({"keyWord": keyword}, ensure_ascii=False), "tk": key}

    def parse(self, payload: dict) -> Answer:
        status, message = str(payload.get("status", "")), str(payload.get("msg", ""))
        location = payload.get("location") or {}
        if status == "0" and "lon" in location:
            return Answer(
                self.result(location["lon"], location["lat"], location.get("level") or "", location.get("score"))
            )
        if any(word in message for word in ("权限", "tk", "key", "Key")):
            raise GeocodeError(
                _("tianditu refused the key ({message}): check --key or GZ_TIANDITU_KEY").format(message=message)
            )
        if "超" in message and "限" in message:
            raise GeocodeError(
                _("tianditu quota exhausted ({message}): rerun later, the cache keeps what was done").format(
                    message=message
                )
            )
        return Answer(None, f"tianditu found no match ({status} {message})".replace(" )", ")"))


PROVIDERS: dict[str, type[Provider]] = {provider.name: provider for provider in (Amap, Baidu, Tianditu)}


# --- cache --------------------------------------------------------------------------------


def cache_path() -> Path:
    """The cache file: $GZ_GEOCODE_CACHE, else geocode.sqlite in the user cache dir."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    import platformdirs

    return Path(platformdirs.user_cache_dir("gzspatial")) / "geocode.sqlite"


class Cache:
    """Answers by (provider, normalised address, city); 'no match' answers are kept too. Holds no key."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or cache_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS geocode (provider TEXT, address TEXT, city TEXT, answer TEXT, "
            "saved TEXT, PRIMARY KEY (provider, address, city))"
        )

    def get(self, provider: str, address: str, city: str) -> Answer | None:
        row = self.db.execute(
            "SELECT answer FROM geocode WHERE provider=? AND address=? AND city=?", (provider, address, city)
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return Answer(Result(**data["result"]) if data["result"] else None, data["note"])

    def put(self, provider: str, address: str, city: str, answer: Answer) -> None:
        data = {"result": answer.result.__dict__ if answer.result else None, "note": answer.note}
        with self.db:  # committed at once: an interrupted run keeps everything done so far
            self.db.execute(
                "INSERT OR REPLACE INTO geocode VALUES (?, ?, ?, ?, datetime('now'))",
                (provider, address, city, json.dumps(data, ensure_ascii=False)),
            )

    def clear(self) -> int:
        with self.db:
            return self.db.execute("DELETE FROM geocode").rowcount

    def close(self) -> None:
        self.db.close()


def clear_cache(path: Path | None = None) -> tuple[Path, int]:
    """Delete every cached answer; returns (cache file, answers deleted)."""
    cache = Cache(path)
    try:
        return cache.path, cache.clear()
    finally:
        cache.close()


# --- the session --------------------------------------------------------------------------


class Geocoder:
    """Geocode addresses with one provider, politely and resumably (see module docstring).

    ``key`` defaults to the provider's environment variable; ``url`` overrides the service URL;
    ``qps`` is the request rate limit; ``cache=False`` neither reads nor writes the cache.
    After an invalid key or exhausted quota ``stopped`` holds the reason and no request is sent.
    """

    def __init__(self, provider: str, key: str | None = None, *, url: str | None = None, qps: float | None = None,
                 cache: bool = True, city: str = CITY, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 1.0, coordtype: str = "bd09ll") -> None:  # fmt: skip
        if provider not in PROVIDERS:
            raise InputError(
                _("geocoder {provider!r} is not supported: use {PROVIDERS}").format(
                    provider=provider, PROVIDERS=", ".join(PROVIDERS)
                )
            )
        self.provider = Baidu(coordtype) if provider == ProviderName.BAIDU else PROVIDERS[provider]()
        self._key = key or os.environ.get(self.provider.env_key, "")
        if not self._key:
            raise InputError(
                _("{provider} needs a key: give --key or set {env_key}").format(
                    provider=provider, env_key=self.provider.env_key
                )
            )
        self.url = url or self.provider.url
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https") or "?" in self.url:
            raise InputError(_("geocoder URL {url!r} is not an http(s) URL without a query").format(url=self.url))
        self.qps = DEFAULT_QPS if qps is None else float(qps)
        if not self.qps > 0:
            raise InputError(_("--qps {qps!r} must be a number > 0").format(qps=qps))
        self.city, self.timeout, self.retries, self.backoff = city, timeout, retries, backoff
        self.cache = Cache() if cache else None
        self.stopped: str | None = None
        self.requests = self.cache_hits = 0
        self._last = 0.0

    def _scrub(self, text: str) -> str:
        return str(text).replace(self._key, "***") if self._key else str(text)

    def geocode(self, address: str) -> Answer:
        """One address: from the cache, else from the service (None result with a note if not found)."""
        from gzspatial.address import normalize

        text = normalize(address)
        if self.cache is not None and (cached := self.cache.get(self.provider.name, text, self.city)) is not None:
            self.cache_hits += 1
            log.debug("%s: %r answered from the cache", self.provider.name, text)
            return cached
        if self.stopped:
            return Answer(None, f"not geocoded: {self.stopped}")
        log.debug("%s: asking for %r", self.provider.name, text)  # never the URL: it holds the key
        try:
            answer = self._ask(text)
        except GeocodeError as exc:
            self.stopped = self._scrub(str(exc))
            return Answer(None, f"not geocoded: {self.stopped}")
        except Exception as exc:  # anything else may quote the request URL, key included: scrub it
            self.stopped = self._scrub(f"{self.provider.name} failed: {exc.__class__.__name__}: {exc}")
            return Answer(None, f"not geocoded: {self.stopped}")
        if self.cache is not None:
            self.cache.put(self.provider.name, text, self.city, answer)
        return answer

    def _ask(self, address: str) -> Answer:
        query = urllib.parse.urlencode(self.provider.params(address, self.city, self._key))
        request = urllib.request.Request(f"{self.url}?{query}", headers={"User-Agent": "gzspatial"})
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self._wait()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    payload = json.loads(response.read().decode("utf-8"))
                return self.provider.parse(payload)
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403):
                    raise GeocodeError(
                        _("{name} refused the key (HTTP {code})").format(name=self.provider.name, code=exc.code)
                    ) from None
                if exc.code != 429 and exc.code < 500:
                    return Answer(None, f"{self.provider.name} answered HTTP {exc.code}")
                problem = f"HTTP {exc.code}"
            except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException) as exc:
                problem = _("no answer ({reason})").format(reason=getattr(exc, "reason", exc) or exc.__class__.__name__)
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError, AttributeError):
                problem = _("an answer that is not the documented JSON")
            except _RetryError as exc:
                problem = str(exc)
        gave = _("{name} at {url} gave {problem} after {tries} tries: check --geocoder-url or the network, "
                 "then rerun (the cache keeps what was done)")  # fmt: skip
        raise GeocodeError(
            self._scrub(gave.format(name=self.provider.name, url=self.url, problem=problem, tries=self.retries + 1))
        )

    def _wait(self) -> None:
        pause = self._last + 1.0 / self.qps - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._last = time.monotonic()
        self.requests += 1

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    # --- join hook ------------------------------------------------------------------------

    def fill(self, out: dict, rows: np.ndarray, texts: np.ndarray, lon, lat, *, options, coordinates) -> np.ndarray:
        """Geocode ``rows`` of a join (gz_* columns as arrays in ``out``); returns the rows not placed.

        Site-level results are attributed like any point (status geocoded, or outside); coarse ones
        give the district read from the address only, and no point (status geocoded_coarse).
        """
        answers = self._answers(dict.fromkeys(texts[rows].tolist()))
        fine: list[int] = []
        coarse: list[int] = []
        left: list[int] = []
        fine_results: list[Result] = []
        coarse_results: list[Result] = []
        for row in rows.tolist():
            answer = answers[texts[row]]
            if answer.result is None:
                left.append(row)
                before = out["gz_note"][row] if coordinates else ""
                out["gz_note"][row] = "; ".join(filter(None, [before, answer.note]))
                continue
            r = answer.result
            (coarse if r.coarse else fine).append(row)
            (coarse_results if r.coarse else fine_results).append(r)
            out["gz_geocode_source"][row], out["gz_geocode_level"][row] = r.source, r.level
            out["gz_geocode_score"][row] = np.nan if r.score is None else r.score
            out["gz_geocode_lon"][row], out["gz_geocode_lat"][row] = r.lon, r.lat
        if fine:
            notes = [answers[texts[row]].note for row in fine]
            _place_sites(out, np.array(fine), fine_results, notes, lon, lat, options)
        _place_coarse(out, coarse, coarse_results, texts, options)
        return np.array(left, dtype=np.int64)

    def _answers(self, texts) -> dict[str, Answer]:
        """An answer per distinct address. Not sent: addresses the offline parser puts in another
        city (a city-bound search would force them into Guangzhou) and text with no Chinese place
        name (quota spent on noise)."""
        from gzspatial.address import parse_address

        answers = {}
        for text in texts:
            parsed = parse_address(text)
            skip = parsed.status == "outside" or not any("\u4e00" <= ch <= "\u9fff" for ch in parsed.text)
            answers[text] = Answer(None, f"not geocoded: {parsed.note}") if skip else self.geocode(text)
        return answers


def _place_sites(
    out: dict[str, Any], at: np.ndarray, results: list[Result], notes: list[str], lon, lat, options
) -> None:
    """Attribute site-level results at rows ``at`` like any WGS84 point (status geocoded or outside)."""
    from gzspatial.attribute import Options, attribute_coordinates

    g_lon, g_lat = out["gz_geocode_lon"][at], out["gz_geocode_lat"][at]
    wgs84 = Options(_crs.WGS84, options.corridor_km, options.lang, options.layers)
    columns, _, _ = attribute_coordinates(g_lon, g_lat, wgs84)
    for name, values in columns.items():
        out[name][at] = values if isinstance(values, np.ndarray) else values.to_numpy()
    for row, result, note in zip(at.tolist(), results, notes, strict=True):
        outside = out["gz_status"][row] == "outside"
        out["gz_status"][row] = "outside" if outside else "geocoded"
        where = f"geocoded by {result.source} ({result.provider_level or 'no level given'})"
        out["gz_note"][row] = "; ".join(filter(None, [where, note, "outside Guangzhou" if outside else ""]))
    lon[at], lat[at] = g_lon, g_lat


def _place_coarse(out: dict, rows: list[int], results: list[Result], texts: np.ndarray, options) -> None:
    """Coarse results are no site: the district comes from the address, if it names one."""
    from gzspatial.address import district_names, parse_address

    names = district_names(options)
    for row, result in zip(rows, results, strict=True):
        parsed = parse_address(texts[row])
        if parsed.status == "guangzhou":
            out["gz_district"][row] = names.get(parsed.district_code, parsed.district)
            out["gz_district_code"][row] = parsed.district_code
            out["gz_subdistrict"][row] = parsed.subdistrict
        out["gz_status"][row] = "geocoded_coarse"
        district = "district from the address" if parsed.status == "guangzhou" else "no district"
        out["gz_note"][row] = (
            f"geocoded by {result.source} only to {result.level} level ({result.provider_level}): not a site; "
            f"{district}; cores, nodes and axis need coordinates"
        )


#: Columns a join with a geocoder adds after GZ_COLUMNS (WGS84 degrees; score as the provider gives it).
GEOCODE_COLUMNS = ("gz_geocode_source", "gz_geocode_level", "gz_geocode_score", "gz_geocode_lon", "gz_geocode_lat")
