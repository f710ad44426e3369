DROP TRIGGER api_clients_notify ON api_clients;
DROP FUNCTION notify_api_client_change();
