"""The demo OEM: regions, dealers, staff and their customer base, deterministic by seed.

Used by `dealerhub demo`, the tests and the benchmarks.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dealerhub.platform.appointments.demo import seed_demo as seed_appointments
from dealerhub.platform.auth import PasswordRefused, hash_password, password_problem
from dealerhub.platform.campaigns.demo import seed_demo as seed_campaigns
from dealerhub.platform.scoring.demo import seed_demo as seed_scoring
from dealerhub.platform.tables import AppUser, Dealer, Region
from dealerhub.platform.tenancy import transaction
from dealerhub.survey.demo import seed_demo as seed_survey
from dealerhub.tenants.demo_data import seed_customer_base

DEMO_PASSWORD = "dealerhub-demo-1"

REGIONS = [
    ("EAST", "华东大区", "East"),
    ("SOUTH", "华南大区", "South"),
    ("NORTH", "华北大区", "North"),
]
# (code, name, city, region, time zone, latitude, longitude)
DEALERS = [
    ("D001", "上海浦东星途4S店", "上海", "EAST", "Asia/Shanghai", 31.2215, 121.5440),
    ("D002", "杭州西湖星途4S店", "杭州", "EAST", "Asia/Shanghai", 30.2741, 120.1551),
    ("D003", "南京江宁星途4S店", "南京", "EAST", "Asia/Shanghai", 31.9540, 118.8390),
    ("D004", "苏州工业园星途4S店", "苏州", "EAST", "Asia/Shanghai", 31.3170, 120.7200),
    ("D005", "宁波鄞州星途4S店", "宁波", "EAST", "Asia/Shanghai", 29.8160, 121.5470),
    ("D006", "广州天河星途4S店", "广州", "SOUTH", "Asia/Shanghai", 23.1291, 113.3240),
    ("D007", "深圳南山星途4S店", "深圳", "SOUTH", "Asia/Shanghai", 22.5330, 113.9300),
    ("D008", "东莞南城星途4S店", "东莞", "SOUTH", "Asia/Shanghai", 23.0200, 113.7500),
    ("D009", "厦门思明星途4S店", "厦门", "SOUTH", "Asia/Shanghai", 24.4798, 118.0894),
    ("D010", "南宁青秀星途4S店", "南宁", "SOUTH", "Asia/Shanghai", 22.8170, 108.3660),
    ("D011", "北京朝阳星途4S店", "北京", "NORTH", "Asia/Shanghai", 39.9219, 116.4436),
    ("D012", "天津河西星途4S店", "天津", "NORTH", "Asia/Shanghai", 39.1100, 117.2200),
    ("D013", "石家庄长安星途4S店", "石家庄", "NORTH", "Asia/Shanghai", 38.0500, 114.5200),
    ("D014", "济南历下星途4S店", "济南", "NORTH", "Asia/Shanghai", 36.6700, 117.0700),
    ("D015", "乌鲁木齐天山星途4S店", "乌鲁木齐", "NORTH", "Asia/Urumqi", 43.8256, 87.6168),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉斌宇浩凯健俊帆帅"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    dealer_code: str | None


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def dealer_logins(code: str) -> list[tuple[str, str]]:
    lower = code.lower()
    return [
        ("dealer_admin", f"admin@{lower}.demo"),
        ("service_advisor", f"advisor@{lower}.demo"),
        ("service_advisor", f"advisor2@{lower}.demo"),
        ("service_advisor", f"advisor3@{lower}.demo"),
        ("cs_agent", f"cs@{lower}.demo"),
        ("cs_agent", f"cs2@{lower}.demo"),
    ]


def auditor_login(code: str) -> str:
    """Each dealer's auditor (access history only); added after the staff so the seeded
    random sequence, and with it the demo data, stays as it was."""
    return f"auditor@{code.lower()}.demo"


OEM_LOGINS = [("oem_admin", "hq-admin@oem.demo"), ("oem_analyst", "hq-analyst@oem.demo")]


def regional_manager_login(region_code: str) -> str:
    return f"rm-{region_code.lower()}@oem.demo"


def printed_logins() -> list[DemoLogin]:
    logins = [DemoLogin(role, email, None) for role, email in OEM_LOGINS]
    logins.append(DemoLogin("oem_regional_manager", regional_manager_login(REGIONS[0][0]), None))
    for code in ("D001", "D002"):
        seen: set[str] = set()
        for role, email in dealer_logins(code):
            if role not in seen:
                seen.add(role)
                logins.append(DemoLogin(role, email, code))
        logins.append(DemoLogin("auditor", auditor_login(code), code))
    return logins


def banner(url: str) -> str:
    lines = [f"dealerhub is running at {url}", f"demo password for every login: {DEMO_PASSWORD}"]
    lines += [
        f"  {login.role:<21} {login.email:<26} {login.dealer_code or 'headquarters'}"
        for login in printed_logins()
    ]
    return "\n".join(lines)


def _check_demo_password(users: list[AppUser]) -> None:
    """The demo logins share one hash (argon2 per user would slow the seed), so the
    password policy that `hash_new_password` applies is checked here for each login."""
    for user in users:
        problem = password_problem(DEMO_PASSWORD, user.email, user.display_name)
        if problem:
            raise PasswordRefused(f"demo password for {user.email}: {problem}")


async def seed(seed: int = 2026, customers_per_dealer: int = 300) -> bool:
    """Create the demo OEM unless dealers exist already; returns whether it created it."""
    if await Dealer.count() > 0:
        return False
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)
    async with transaction():
        regions = {
            code: Region(id=uuid.UUID(int=rng.getrandbits(128)), code=code, name_zh=zh, name_en=en)
            for code, zh, en in REGIONS
        }
        await Region.insert(*regions.values())
        dealers: list[Dealer] = []
        for index, (code, name, city, region, zone, lat, lon) in enumerate(DEALERS):
            dealers.append(
                Dealer(
                    id=uuid.UUID(int=rng.getrandbits(128)),
                    code=code,
                    name=name,
                    city=city,
                    region=regions[region].id,
                    time_zone=zone,
                    latitude=lat,
                    longitude=lon,
                    tier=("flagship", "standard", "standard", "compact")[index % 4],
                    size_band=("large", "medium", "medium", "small")[index % 4],
                )
            )
        await Dealer.insert(*dealers)
        users = [
            AppUser(
                email=email,
                display_name=("总部管理员" if role == "oem_admin" else "总部分析员"),
                password_hash=password_hash,
                role=role,
            )
            for role, email in OEM_LOGINS
        ]
        for dealer in dealers:
            for role, email in dealer_logins(dealer.code):
                users.append(
                    AppUser(
                        email=email,
                        display_name=person_name(rng),
                        password_hash=password_hash,
                        role=role,
                        dealer=dealer.id,
                        region=dealer.region,
                    )
                )
        users += [
            AppUser(email=auditor_login(dealer.code), display_name="审计员",
                    password_hash=password_hash, role="auditor", dealer=dealer.id,
                    region=dealer.region)
            for dealer in dealers
        ]
        users += [
            AppUser(email=regional_manager_login(code), display_name=f"{name_zh}区域经理",
                    password_hash=password_hash, role="oem_regional_manager",
                    region=regions[code].id)
            for code, name_zh, _ in REGIONS
        ]
        _check_demo_password(users)
        await AppUser.insert(*users)
    for hook in SEED_HOOKS:
        started = time.perf_counter()
        await hook(rng, dealers, customers_per_dealer)
        print(f"  {hook.__module__.removeprefix('dealerhub.')}: "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    return True


# Each component's generator, in dependency order: the customer base first, campaigns last
# (they read due lists computed from it).
SEED_HOOKS: list[Callable[..., Awaitable[None]]] = [
    seed_customer_base,
    seed_appointments,
    seed_scoring,
    seed_survey,
    seed_campaigns,
]
