ALTER TABLE change_log DROP COLUMN actor_organization;
DROP TABLE api_clients;
DROP TABLE organizations;
