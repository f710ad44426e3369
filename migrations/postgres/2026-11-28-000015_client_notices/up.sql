-- Every change of a client, by the API or any other writer, notifies the servers' client caches
-- (persistence/src/client_cache.rs); PostgreSQL delivers the notice when the change commits.
-- New clients need no notice: an id nobody has seen is never cached.
CREATE FUNCTION notify_api_client_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('techex_clients', OLD.id);
    ELSE
        PERFORM pg_notify('techex_clients', NEW.id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER api_clients_notify AFTER UPDATE OR DELETE ON api_clients
    FOR EACH ROW EXECUTE FUNCTION notify_api_client_change();
