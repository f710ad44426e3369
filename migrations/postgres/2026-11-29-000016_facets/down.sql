DROP INDEX listings_facets;
