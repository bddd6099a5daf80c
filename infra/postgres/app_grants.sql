-- Run inside the application database by a superuser, after roles.sql created the roles.
-- The app role gets data access to what the owner creates, never ownership.
GRANT USAGE ON SCHEMA public TO dealerhub_app;
GRANT CREATE, USAGE ON SCHEMA public TO dealerhub_owner;
ALTER DEFAULT PRIVILEGES FOR ROLE dealerhub_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dealerhub_app;
ALTER DEFAULT PRIVILEGES FOR ROLE dealerhub_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO dealerhub_app;
