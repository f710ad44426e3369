DROP TABLE search_alerts;
DROP TABLE search_matches;
DROP TABLE saved_searches;
