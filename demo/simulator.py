"""Simulated agency feeds on 127.0.0.1, in the real formats, telling a short story that repeats.

``make run`` (``python -m demo``) starts it and serves the app polling it, so a newcomer sees the
service live; the integration tests and the freshness benchmark drive the same simulator step by step.
The story, one step at a time (``step_s`` apart, then again from the start with new identifiers):

0. 郑州市气象台 issues a 大雾黄色预警 (CAP Alert); the expressway bureau closes G30 郑州西—巩义
   (DATEX II, given by road and stakes only, so linking draws it); roadworks on G4 许昌段 (WZDx);
   every service area open; 周口 gauge at 45.9 m (warning level 46.5 m).
1. The fog warning is upgraded to 橙色 (CAP Update); 许昌服务区's fuel station stops (partial);
   周口 rises to 46.3 m.
2. The warning is lifted (CAP Cancel); the G30 closure is gone from the snapshot (cleared);
   周口 at 46.7 m, above the warning level.
3. An accident on G30 near 巩义 (DATEX II point); 许昌服务区 fully open again; 周口 at 47.0 m.

Each document carries an ETag, so polls are conditional GETs. ``faults`` makes a path misbehave the
way real servers do (hang, 500, an HTML error page, truncated XML, GBK bytes labelled UTF-8), for the
resilience tests.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from xml.sax.saxutils import escape

import orjson
from aiohttp import web

from travel.core.records import Kind, SourceConfig

STEPS = 4
SENDER = "郑州市气象台"
ZHENGZHOU_POLYGON = "34.95,113.45 34.95,114.15 34.55,114.15 34.55,113.45 34.95,113.45"
G4_XUCHANG_WORKS = [[113.795001, 34.155045], [113.798141, 34.10792], [113.802827, 34.070588]]
ZHOUKOU_LEVELS = (45.9, 46.3, 46.7, 47.0)
SERVICE_AREA = "geodata:sa-G4-xuchang"


class Fault(StrEnum):
    """Ways a simulated server misbehaves."""

    HANG = "hang"
    ERROR = "error"
    HTML = "html"
    TRUNCATED = "truncated"
    MISLABELLED_GBK = "gbk"


@dataclass(frozen=True, slots=True)
class Document:
    """One feed document as served."""

    body: bytes
    content_type: str

    @property
    def etag(self) -> str:
        """A strong validator from the content."""
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def cap_message(identifier: str, sent: datetime, stage: int, previous: tuple[str, datetime] | None) -> str:
    """The fog warning's CAP message at ``stage`` (0 Alert yellow, 1 Update orange, 2 Cancel)."""
    msg_type = ("Alert", "Update", "Cancel")[stage]
    references = f"<references>{SENDER},{previous[0]},{_iso(previous[1])}</references>" if previous else ""
    head = (f'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>{identifier}'
            f"</identifier><sender>{SENDER}</sender><sent>{_iso(sent)}</sent><status>Actual</status>"
            f"<msgType>{msg_type}</msgType><scope>Public</scope>{references}")
    if msg_type == "Cancel":
        return head + "<note>郑州市气象台解除大雾预警信号</note></alert>"
    colour, severity = (("黄色", "Moderate"), ("橙色", "Severe"))[stage]
    visibility = ("500", "200")[stage]
    headline = f"郑州市气象台发布大雾{colour}预警信号" if stage == 0 else f"郑州市气象台将大雾预警信号升级为{colour}"
    info = (
        f"<info><language>zh-CN</language><category>Met</category><event>大雾</event>"
        f"<urgency>Immediate</urgency><severity>{severity}</severity><certainty>Observed</certainty>"
        f"<onset>{_iso(sent)}</onset><expires>{_iso(sent + timedelta(hours=6))}</expires>"
        f"<headline>{headline}</headline>"
        f"<description>预计未来12小时郑州市区、中牟将出现能见度小于{visibility}米的雾，"
        f"G4京港澳高速、G30连霍高速郑州段可能实施交通管制。</description>"
        f"<instruction>驾驶人员注意雾的变化，减速慢行，开启雾灯。</instruction>"
        f"<parameter><valueName>alert_color</valueName><value>{colour}</value></parameter>"
        f"<area><areaDesc>郑州市区及中牟县</areaDesc><polygon>{ZHENGZHOU_POLYGON}</polygon>"
        f"<geocode><valueName>GB/T2260</valueName><value>410100</value></geocode></area></info>"
    )
    return head + info + "</alert>"


def datex2_payload(situations: list[str], published: datetime) -> bytes:
    """A DATEX II v3 situation publication (snapshot) of the given ``<sit:situation>`` elements."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<d2:payload xmlns:d2="http://datex2.eu/schema/3/d2Payload" '
        'xmlns:sit="http://datex2.eu/schema/3/situation" xmlns:com="http://datex2.eu/schema/3/common" '
        'xmlns:loc="http://datex2.eu/schema/3/locationReferencing" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:type="sit:SituationPublication" lang="zh" modelBaseVersion="3">'
        f"<com:publicationTime>{_iso(published)}</com:publicationTime>"
        "<com:publicationCreator><com:country>cn</com:country>"
        "<com:nationalIdentifier>CN-HA-GSGLJ</com:nationalIdentifier></com:publicationCreator>"
        + "".join(situations) + "</d2:payload>"
    ).encode()


def datex2_situation(situation_id: str, record_type: str, record_id: str, at: datetime, severity: str,
                     comment: str, location: str, extra: str = "") -> str:
    """One ``<sit:situation>`` with one record."""
    return (
        f'<sit:situation id="{situation_id}" version="1"><sit:overallSeverity>{severity}</sit:overallSeverity>'
        f'<sit:situationRecord xsi:type="sit:{record_type}" id="{record_id}" version="1">'
        f"<sit:situationRecordCreationTime>{_iso(at)}</sit:situationRecordCreationTime>"
        f"<sit:situationRecordVersionTime>{_iso(at)}</sit:situationRecordVersionTime>"
        f"<sit:severity>{severity}</sit:severity>"
        "<sit:validity><com:validityStatus>active</com:validityStatus></sit:validity>"
        f'<sit:generalPublicComment><sit:comment><com:values><com:value lang="zh">{escape(comment)}'
        "</com:value></com:values></sit:comment></sit:generalPublicComment>"
        f"{location}{extra}</sit:situationRecord></sit:situation>"
    )


class Story:
    """The documents of every feed at each step; ``times[i]`` is when step ``i`` began."""

    def __init__(self) -> None:
        self.times: list[datetime] = []

    @property
    def step(self) -> int:
        """The current step, counted from the start (cycle = step // STEPS)."""
        return len(self.times) - 1

    def advance(self, now: datetime | None = None) -> int:
        """Go to the next step (steps are at least a second apart: identifiers carry the second)."""
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        if self.times and now <= self.times[-1]:
            now = self.times[-1] + timedelta(seconds=1)
        self.times.append(now)
        return self.step

    def documents(self) -> dict[str, Document]:
        """Every feed's document at the current step."""
        return {
            "/cap/henan.xml": self._cap(),
            "/datex2/situations.xml": self._datex2(),
            "/wzdx/workzones.geojson": self._wzdx(),
            "/csv/service_areas.csv": self._service_areas(),
            "/csv/gauge_readings.csv": self._gauges(),
        }

    # ------------------------------------------------------------------ helpers
    def _phase(self) -> tuple[int, int]:
        return divmod(self.step, STEPS)

    def _time(self, step_in_cycle: int) -> datetime:
        cycle, _ = self._phase()
        return self.times[cycle * STEPS + step_in_cycle]

    # ------------------------------------------------------------------ CAP (Atom feed of the cycle's messages)
    def _cap(self) -> Document:
        cycle, phase = self._phase()
        messages = []
        for i in range(min(phase, 2) + 1):
            messages.append(self._cap_message(cycle, i))
        entries = "".join(
            f"<entry><id>urn:hnqx:{cycle}-{i}</id><title>{SENDER}预警</title><updated>{_iso(self._time(i))}</updated>"
            f'<content type="text/xml">{m}</content></entry>'
            for i, m in enumerate(messages)
        )
        body = (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<id>urn:hnqx:feed</id><title>河南省气象灾害预警</title><updated>{_iso(self._time(min(phase, 2)))}"
                f"</updated>{entries}</feed>")
        return Document(body.encode(), "application/atom+xml")

    def _cap_identifier(self, cycle: int, i: int) -> str:
        return f"41010041600000_{self._time(i):%Y%m%d%H%M%S}_{cycle}{i}"

    def _cap_message(self, cycle: int, i: int) -> str:
        previous = (self._cap_identifier(cycle, i - 1), self._time(i - 1)) if i else None
        return cap_message(self._cap_identifier(cycle, i), self._time(i), i, previous)

    # ------------------------------------------------------------------ DATEX II v3 snapshot
    def _datex2(self) -> Document:
        cycle, phase = self._phase()
        situations = []
        if phase < 2:
            situations.append(self._datex2_closure(cycle))
        if phase == 3:
            situations.append(self._datex2_accident(cycle))
        return Document(datex2_payload(situations, self.times[-1]), "application/xml")

    def _datex2_closure(self, cycle: int) -> str:
        location = (
            '<sit:locationReference xsi:type="loc:SingleRoadLinearLocation">'
            "<loc:roadInformation><loc:roadName>连霍高速</loc:roadName><loc:roadNumber>G30</loc:roadNumber>"
            "</loc:roadInformation><loc:linearWithinLinearElement>"
            "<loc:directionRelativeOnLinearSection>both</loc:directionRelativeOnLinearSection>"
            '<loc:linearElement xsi:type="loc:LinearElementByCode"><loc:roadNumber>G30</loc:roadNumber>'
            '</loc:linearElement><loc:fromPoint xsi:type="loc:DistanceFromLinearElementStart">'
            "<loc:distanceAlong>586300</loc:distanceAlong></loc:fromPoint>"
            '<loc:toPoint xsi:type="loc:DistanceFromLinearElementStart"><loc:distanceAlong>618900</loc:distanceAlong>'
            "</loc:toPoint></loc:linearWithinLinearElement></sit:locationReference>"
        )
        return datex2_situation(
            f"HN-S-{cycle}-CL", "RoadOrCarriagewayOrLaneManagement", f"HN-CL-G30-{cycle}", self._time(0), "high",
            "受大雾影响，G30连霍高速郑州西至巩义段双向临时封闭，请绕行G310。", location,
            "<sit:roadOrCarriagewayOrLaneManagementType>roadClosed</sit:roadOrCarriagewayOrLaneManagementType>",
        )

    def _datex2_accident(self, cycle: int) -> str:
        location = (
            '<sit:locationReference xsi:type="loc:PointLocation">'
            "<loc:roadInformation><loc:roadName>连霍高速</loc:roadName><loc:roadNumber>G30</loc:roadNumber>"
            "</loc:roadInformation><loc:pointByCoordinates><loc:pointCoordinates>"
            "<loc:latitude>34.74545</loc:latitude><loc:longitude>113.10620</loc:longitude>"
            "</loc:pointCoordinates></loc:pointByCoordinates></sit:locationReference>"
        )
        return datex2_situation(
            f"HN-S-{cycle}-ACC", "Accident", f"HN-ACC-G30-{cycle}", self._time(3), "medium",
            "G30连霍高速巩义附近发生两车追尾事故，占用一条车道，请减速慢行。", location,
        )

    # ------------------------------------------------------------------ WZDx v4.2
    def _wzdx(self) -> Document:
        start = self.times[0]
        feature = {
            "id": "hn-wz-g4-xuchang", "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": G4_XUCHANG_WORKS},
            "properties": {
                "core_details": {
                    "event_type": "work-zone", "data_source_id": "hn-wz", "road_names": ["G4京港澳高速"],
                    "direction": "southbound", "name": "京港澳高速许昌段路面养护",
                    "description": "G4京港澳高速许昌段路面养护施工，封闭内侧车道，限速60公里/小时。",
                    "update_date": _iso(start),
                },
                "start_date": _iso(start - timedelta(days=1)), "end_date": _iso(start + timedelta(days=14)),
                "is_start_date_verified": True, "is_end_date_verified": False,
                "is_start_position_verified": True, "is_end_position_verified": True,
                "location_method": "channel-device-method", "vehicle_impact": "some-lanes-closed",
                "reduced_speed_limit_kph": 60,
            },
        }
        feed = {
            "feed_info": {
                "publisher": "河南省交通运输厅", "version": "4.2", "update_date": _iso(start), "update_frequency": 300,
                "data_sources": [
                    {"data_source_id": "hn-wz", "organization_name": "河南交投", "update_date": _iso(start)},
                ],
            },
            "type": "FeatureCollection", "features": [feature],
        }
        return Document(orjson.dumps(feed), "application/geo+json")

    # ------------------------------------------------------------------ CSV tables
    def _service_areas(self) -> Document:
        _, phase = self._phase()
        at = _iso(self._time(min(phase, 1) if phase < 3 else 3))
        status, note, fuel = ("open", "", "92#;95#;0#柴油")
        if phase in (1, 2):
            status, note, fuel = ("partial", "加油站设备检修，暂停加油", "")
        header = "poi_id,open_status,status_note,fuel,ev_charging,updated_at"
        body = f"{header}\n{SERVICE_AREA},{status},{note},{fuel},,{at}\n"
        return Document(body.encode(), "text/csv; charset=utf-8")

    def _gauges(self) -> Document:
        """The last eight readings at 周口, one per step."""
        rows = ["gauge,observed_at,level_m,flow_m3s"]
        for step in range(max(0, self.step - 7), self.step + 1):
            phase = step % STEPS
            rows.append(f"geodata:zhoukou,{_iso(self.times[step])},{ZHOUKOU_LEVELS[phase]:.2f},{1200 + 150 * phase}")
        return Document(("\n".join(rows) + "\n").encode(), "text/csv; charset=utf-8")


class Simulator:
    """The story served over HTTP on 127.0.0.1, advanced every ``step_s`` seconds (or by ``advance``)."""

    def __init__(self, step_s: float | None = None, host: str = "127.0.0.1") -> None:
        self.story = Story()
        self.step_s = step_s
        self.host = host
        self.port = 0
        self.faults: dict[str, Fault] = {}
        self.requests: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}  # the most requests of a path served at once (overlap tests)
        self._in_flight: dict[str, int] = {}
        self._documents: dict[str, Document] = {}
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.advance()

    def advance(self) -> int:
        """Go to the story's next step; returns it."""
        step = self.story.advance()
        self._documents = self.story.documents()
        return step

    @property
    def base_url(self) -> str:
        """Where it listens."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and, with ``step_s``, advance on a timer."""
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        # handler_cancellation: a hanging answer ends when its client gives up, as a real server's would.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]
        if self.step_s:
            self._ticker = asyncio.create_task(self._tick(self.step_s))

    async def stop(self) -> None:
        """Stop serving."""
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _tick(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.advance()

    def sources(self, poll_interval_s: float = 5.0) -> list[SourceConfig]:
        """Source configs that poll this simulator."""
        base = self.base_url
        table = (
            ("demo-weather", "河南省气象台（模拟）", "cap", "/cap/henan.xml", [Kind.ALERT]),
            ("demo-expressway", "河南省高速公路管理局（模拟）", "datex2", "/datex2/situations.xml", [Kind.EVENT]),
            ("demo-workzones", "河南交投（模拟）", "wzdx", "/wzdx/workzones.geojson", [Kind.EVENT]),
            ("demo-service-areas", "河南省公路局服务区（模拟）", "sa_status", "/csv/service_areas.csv", [Kind.POI]),
            ("demo-hydrology", "河南省水文水资源中心（模拟）", "gauge_readings", "/csv/gauge_readings.csv",
             [Kind.READING]),
        )
        return [
            SourceConfig(id=i, agency=agency, format=fmt, url=base + path, poll_interval_s=poll_interval_s,
                         timeout_s=min(5.0, poll_interval_s), max_backoff_s=max(30.0, poll_interval_s), kinds=kinds)
            for i, agency, fmt, path, kinds in table
        ]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[path] = self.requests.get(path, 0) + 1
        self._in_flight[path] = self._in_flight.get(path, 0) + 1
        self.most_in_flight[path] = max(self.most_in_flight.get(path, 0), self._in_flight[path])
        try:
            return await self._answer(request, path)
        finally:
            self._in_flight[path] -= 1

    async def _answer(self, request: web.Request, path: str) -> web.StreamResponse:
        fault = self.faults.get(path)
        if fault is Fault.HANG:
            await self._stopping.wait()  # until the client gives up or the simulator stops
        if fault is Fault.ERROR:
            return web.Response(status=500, text="Internal Server Error")
        if fault is Fault.HTML:
            return web.Response(text="<!DOCTYPE html><html><body>系统维护中</body></html>", content_type="text/html")
        doc = self._documents.get(path)
        if doc is None:
            raise web.HTTPNotFound()
        if fault is Fault.TRUNCATED:
            return web.Response(body=doc.body[: len(doc.body) // 2], content_type=doc.content_type.split(";")[0])
        if fault is Fault.MISLABELLED_GBK:
            return web.Response(body=doc.body.decode().encode("gbk"), headers={"Content-Type": doc.content_type})
        if request.headers.get("If-None-Match") == doc.etag:
            return web.Response(status=304, headers={"ETag": doc.etag})
        return web.Response(body=doc.body, headers={"Content-Type": doc.content_type, "ETag": doc.etag})
