"""The dealer's staff: advisors, CS agents, sales consultants, insurance advisors, managers."""

from __future__ import annotations

import uuid

from dealerhub.platform.tables import AppUser
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.tenants.customers.facts import TEAM_SLOT_OF, TEAM_SLOTS, assign_teams, staff_loads
from dealerhub.tenants.customers.tables import Customer
from dealerhub.tenants.fields import Cleaner
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.tables import STAFF_KINDS, Staff


async def list_staff(tenant_id: uuid.UUID, kind: str | None = None) -> list[Staff]:
    async with tenant_scope(tenant_id, write=False):
        query = Staff.objects_in_tenant().order_by(Staff.kind).order_by(Staff.name)
        if kind is not None:
            query = query.where(Staff.kind == kind)
        return await query


async def staff_for_user(tenant_id: uuid.UUID, user_id: uuid.UUID) -> Staff | None:
    async with tenant_scope(tenant_id, write=False):
        return await Staff.objects_in_tenant().where(Staff.user_id == user_id).first()


async def get_staff(tenant_id: uuid.UUID, staff_id: uuid.UUID) -> Staff | None:
    async with tenant_scope(tenant_id, write=False):
        return await Staff.get_in_tenant(staff_id)


async def create_staff(tenant_id: uuid.UUID, data: StaffCreate) -> Staff:
    """A staff member; a linked user must belong to this dealer."""
    raw = {"name": data.name, "kind": data.kind, "phone": data.phone,
           "external_id": data.external_id}
    clean = Cleaner(raw)
    name = clean.text("name", required=True)
    kind = clean.choice("kind", sorted(STAFF_KINDS), required=True)
    phone = clean.phone("phone")
    external_id = clean.text("external_id", max_length=64)
    async with tenant_scope(tenant_id):
        if data.user_id is not None:
            user = await AppUser.select(AppUser.id).where(
                (AppUser.id == data.user_id) & (AppUser.dealer == tenant_id)).first()
            if user is None:
                clean.fail("user_id", "is not a user of this dealer")
            elif await Staff.count_in_tenant().where(Staff.user_id == data.user_id):
                clean.fail("user_id", "is already linked to a staff member")
        clean.done()
        (row,) = await Staff.insert_in_tenant(Staff(
            name=name, kind=kind, phone_e164=phone, external_id=external_id,
            user_id=data.user_id))
        return row


async def set_staff_active(tenant_id: uuid.UUID, staff_id: uuid.UUID,
                           active: bool) -> tuple[Staff, int] | None:
    """Deactivate (someone left) or reactivate a staff member. A deactivated member's
    customers lose them from their dedicated team and get the least-loaded active colleague
    of the same kind, except where the dealer admin chose the team: that slot stays empty
    for the admin to fill. Returns the member and how many customers lost them."""
    async with tenant_scope(tenant_id):
        row = await Staff.get_in_tenant(staff_id)
        if row is None:
            return None
        await Staff.update_in_tenant({Staff.active: active}).where(Staff.id == staff_id)
        row.active = active
        slot = TEAM_SLOT_OF.get(row.kind)
        if active or slot is None:
            return row, 0
        column = getattr(Customer, slot)
        customers = [c["id"] for c in await Customer.select_in_tenant(Customer.id).where(
            column == staff_id)]
        await Customer.update_in_tenant({column: None}).where(column == staff_id)
        await assign_teams(customers)
        return row, len(customers)


async def staff_with_loads(tenant_id: uuid.UUID) -> list[tuple[Staff, int]]:
    """Every staff member with the number of customers whose team they are on."""
    async with tenant_scope(tenant_id, write=False):
        loads: dict[uuid.UUID, int] = {}
        for kind in TEAM_SLOTS.values():
            loads.update({staff_id: load for load, _, staff_id in await staff_loads(kind)})
        members = await Staff.objects_in_tenant().order_by(Staff.kind).order_by(Staff.name)
    return [(member, loads.get(member.id, 0)) for member in members]
