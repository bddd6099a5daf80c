from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T15:58:00:153912"
VERSION = "1.38.0"
DESCRIPTION = "appointment request channel"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="appointments", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Appointment",
        tablename="appointment",
        column_name="request_channel",
        db_column_name="request_channel",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
