DROP TABLE center_services;
DROP TABLE center_fields;
DROP TABLE centers;
