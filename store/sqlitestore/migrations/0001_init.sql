-- 0001: the initial schema, modelled on Matomo's tables (reference §7).
-- Times are Unix milliseconds UTC (INTEGER); 0 means "no time".
-- Names (URLs, titles, event, content, product and search fields) live in
-- log_action and are referenced by id: NULL = absent, 0 = the empty string.

CREATE TABLE site (
	idsite                         INTEGER PRIMARY KEY AUTOINCREMENT,
	name                           TEXT    NOT NULL,
	urls                           TEXT    NOT NULL DEFAULT '[]', -- JSON array, main URL first
	timezone                       TEXT    NOT NULL DEFAULT '',
	currency                       TEXT    NOT NULL DEFAULT '',
	ecommerce                      INTEGER NOT NULL DEFAULT 0,
	sitesearch                     INTEGER NOT NULL DEFAULT 0,
	sitesearch_keyword_parameters  TEXT    NOT NULL DEFAULT '[]',
	sitesearch_category_parameters TEXT    NOT NULL DEFAULT '[]',
	excluded_ips                   TEXT    NOT NULL DEFAULT '[]',
	excluded_parameters            TEXT    NOT NULL DEFAULT '[]',
	excluded_user_agents           TEXT    NOT NULL DEFAULT '[]',
	excluded_referrers             TEXT    NOT NULL DEFAULT '[]',
	exclude_unknown_urls           INTEGER NOT NULL DEFAULT 0,
	keep_url_fragment              INTEGER NOT NULL DEFAULT 0,
	privacy_ipv4_mask_bytes        INTEGER NOT NULL DEFAULT 0,
	privacy_ipv6_mask_bits         INTEGER NOT NULL DEFAULT 0,
	privacy_store_ip               INTEGER NOT NULL DEFAULT 0,
	privacy_cookieless             INTEGER NOT NULL DEFAULT 0,
	privacy_dnt                    INTEGER NOT NULL DEFAULT 0,
	privacy_gpc                    INTEGER NOT NULL DEFAULT 0,
	privacy_hash_user_id           INTEGER NOT NULL DEFAULT 0,
	privacy_scrub_pii              INTEGER NOT NULL DEFAULT 0,
	privacy_retention_days         INTEGER NOT NULL DEFAULT 0,
	ts_created                     INTEGER NOT NULL
) STRICT;

CREATE TABLE goal (
	idsite          INTEGER NOT NULL,
	idgoal          INTEGER NOT NULL,
	name            TEXT    NOT NULL,
	match_attribute TEXT    NOT NULL,
	pattern         TEXT    NOT NULL,
	pattern_type    TEXT    NOT NULL,
	case_sensitive  INTEGER NOT NULL,
	allow_multiple  INTEGER NOT NULL,
	revenue         REAL    NOT NULL,
	PRIMARY KEY (idsite, idgoal)
) STRICT, WITHOUT ROWID;

-- The name dictionary. type follows Matomo: 1 page URL, 2 outlink,
-- 3 download, 4 page title, 5 product SKU, 6 product name, 7 product
-- category, 8 site search keyword, 10/11/12 event category/action/name,
-- 13/14/15/16 content name/piece/target/interaction.
CREATE TABLE log_action (
	idaction INTEGER PRIMARY KEY,
	type     INTEGER NOT NULL,
	name     TEXT    NOT NULL,
	UNIQUE (type, name)
) STRICT;

CREATE TABLE log_visit (
	idvisit                     INTEGER PRIMARY KEY,
	idsite                      INTEGER NOT NULL,
	idvisitor                   BLOB    NOT NULL,
	config_id                   BLOB    NOT NULL,
	user_id                     TEXT    NOT NULL,
	profilable                  INTEGER NOT NULL,
	visit_first_action_time     INTEGER NOT NULL,
	visit_last_action_time      INTEGER NOT NULL,
	visit_total_time            INTEGER NOT NULL,
	visitor_localtime           INTEGER NOT NULL,
	visit_total_actions         INTEGER NOT NULL,
	visit_total_interactions    INTEGER NOT NULL,
	visit_total_searches        INTEGER NOT NULL,
	visit_total_events          INTEGER NOT NULL,
	visit_total_pageviews       INTEGER NOT NULL,
	visitor_count_visits        INTEGER NOT NULL,
	visitor_returning           INTEGER NOT NULL,
	visitor_seconds_since_first INTEGER NOT NULL,
	visitor_seconds_since_last  INTEGER NOT NULL,
	visitor_seconds_since_order INTEGER NOT NULL,
	visit_goal_converted        INTEGER NOT NULL,
	visit_goal_buyer            INTEGER NOT NULL,
	visit_entry_idaction_url    INTEGER NOT NULL,
	visit_entry_idaction_name   INTEGER NOT NULL,
	visit_exit_idaction_url     INTEGER NOT NULL,
	visit_exit_idaction_name    INTEGER NOT NULL,
	last_idlink_va              INTEGER NOT NULL,
	referer_type                INTEGER NOT NULL,
	referer_name                TEXT    NOT NULL,
	referer_keyword             TEXT    NOT NULL,
	referer_url                 TEXT    NOT NULL,
	campaign_source             TEXT    NOT NULL,
	campaign_medium             TEXT    NOT NULL,
	campaign_content            TEXT    NOT NULL,
	campaign_id                 TEXT    NOT NULL,
	config_browser_name         TEXT    NOT NULL,
	config_browser_version      TEXT    NOT NULL,
	config_browser_engine       TEXT    NOT NULL,
	config_os                   TEXT    NOT NULL,
	config_os_version           TEXT    NOT NULL,
	config_device_type          INTEGER NOT NULL,
	config_device_brand         TEXT    NOT NULL,
	config_device_model         TEXT    NOT NULL,
	config_resolution           TEXT    NOT NULL,
	config_plugins              INTEGER NOT NULL,
	location_browser_lang       TEXT    NOT NULL,
	location_ip                 BLOB,    -- 4 or 16 bytes, NULL when no IP is stored
	location_country            TEXT    NOT NULL,
	location_region             TEXT    NOT NULL,
	location_region_name        TEXT    NOT NULL,
	location_city               TEXT    NOT NULL,
	location_latitude           REAL,    -- NULL when unknown
	location_longitude          REAL,
	location_timezone           TEXT    NOT NULL,
	dimensions                  TEXT     -- JSON [{"id":1,"v":"…"}], NULL when none
) STRICT;
CREATE INDEX log_visit_site_time    ON log_visit (idsite, visit_last_action_time);
CREATE INDEX log_visit_site_visitor ON log_visit (idsite, idvisitor, visit_last_action_time);
CREATE INDEX log_visit_site_config  ON log_visit (idsite, config_id, visit_last_action_time);

-- Actions. parts is a bit set of the optional groups present: 1 event,
-- 2 site search, 4 content, 8 product, 16 page timing.
CREATE TABLE log_link_visit_action (
	idlink_va               INTEGER PRIMARY KEY,
	idsite                  INTEGER NOT NULL,
	idvisitor               BLOB    NOT NULL,
	idvisit                 INTEGER NOT NULL,
	server_time             INTEGER NOT NULL,
	hit_id                  BLOB,
	type                    INTEGER NOT NULL,
	idaction_url            INTEGER NOT NULL,
	idaction_name           INTEGER NOT NULL,
	idaction_url_ref        INTEGER NOT NULL,
	idaction_name_ref       INTEGER NOT NULL,
	idpageview              TEXT    NOT NULL,
	pageview_position       INTEGER NOT NULL,
	time_spent_ref_action   INTEGER NOT NULL,
	parts                   INTEGER NOT NULL,
	idaction_event_category INTEGER,
	idaction_event_action   INTEGER,
	idaction_event_name     INTEGER,
	custom_float            REAL,    -- event value, NULL when not sent
	idaction_search_keyword INTEGER,
	search_cat              TEXT,
	search_count            INTEGER,
	idaction_content_name        INTEGER,
	idaction_content_piece       INTEGER,
	idaction_content_target      INTEGER,
	idaction_content_interaction INTEGER,
	idaction_product_sku    INTEGER,
	idaction_product_name   INTEGER,
	idaction_product_cat    INTEGER,
	idaction_product_cat2   INTEGER,
	idaction_product_cat3   INTEGER,
	idaction_product_cat4   INTEGER,
	idaction_product_cat5   INTEGER,
	product_price           REAL,
	time_network            INTEGER,
	time_server             INTEGER,
	time_transfer           INTEGER,
	time_dom_processing     INTEGER,
	time_dom_completion     INTEGER,
	time_on_load            INTEGER,
	dimensions              TEXT
) STRICT;
-- Actions are reached through their visit (reading, retention by visit
-- time, deleting a visitor); an index on (idsite, server_time) would cost
-- every insert and serve no query yet.
CREATE INDEX log_link_visit_action_visit ON log_link_visit_action (idvisit, server_time);

-- Goal conversions (idgoal > 0), ecommerce orders (0) and the open cart of a
-- visit (-1). An order is unique per (idsite, idorder); any other conversion
-- per (idvisit, idgoal, buster).
CREATE TABLE log_conversion (
	idconversion         INTEGER PRIMARY KEY,
	idvisit              INTEGER NOT NULL,
	idsite               INTEGER NOT NULL,
	idvisitor            BLOB    NOT NULL,
	server_time          INTEGER NOT NULL,
	idgoal               INTEGER NOT NULL,
	buster               INTEGER NOT NULL,
	idorder              TEXT    NOT NULL,
	idlink_va            INTEGER NOT NULL,
	idaction_url         INTEGER NOT NULL,
	revenue              REAL    NOT NULL,
	revenue_subtotal     REAL    NOT NULL,
	revenue_tax          REAL    NOT NULL,
	revenue_shipping     REAL    NOT NULL,
	revenue_discount     REAL    NOT NULL,
	items                INTEGER NOT NULL,
	pageviews_before     INTEGER NOT NULL,
	visitor_count_visits INTEGER NOT NULL,
	visitor_returning    INTEGER NOT NULL,
	referer_type         INTEGER NOT NULL,
	referer_name         TEXT    NOT NULL,
	referer_keyword      TEXT    NOT NULL,
	referer_url          TEXT    NOT NULL,
	campaign_source      TEXT    NOT NULL,
	campaign_medium      TEXT    NOT NULL,
	campaign_content     TEXT    NOT NULL,
	campaign_id          TEXT    NOT NULL,
	location_country     TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX log_conversion_order ON log_conversion (idsite, idorder) WHERE idgoal = 0;
CREATE UNIQUE INDEX log_conversion_goal  ON log_conversion (idvisit, idgoal, buster) WHERE idgoal <> 0;
CREATE INDEX log_conversion_visit        ON log_conversion (idvisit, server_time);
CREATE INDEX log_conversion_site_time    ON log_conversion (idsite, server_time);

-- Lines of an order or cart, in the order they were sent (pos).
CREATE TABLE log_conversion_item (
	idconversion       INTEGER NOT NULL,
	pos                INTEGER NOT NULL,
	idsite             INTEGER NOT NULL,
	idvisitor          BLOB    NOT NULL,
	idvisit            INTEGER NOT NULL,
	server_time        INTEGER NOT NULL,
	idgoal             INTEGER NOT NULL,
	idorder            TEXT    NOT NULL,
	idaction_sku       INTEGER NOT NULL,
	idaction_name      INTEGER NOT NULL,
	idaction_category  INTEGER,
	idaction_category2 INTEGER,
	idaction_category3 INTEGER,
	idaction_category4 INTEGER,
	idaction_category5 INTEGER,
	price              REAL    NOT NULL,
	quantity           INTEGER NOT NULL,
	deleted            INTEGER NOT NULL,
	PRIMARY KEY (idconversion, pos)
) STRICT, WITHOUT ROWID;
CREATE INDEX log_conversion_item_site_time ON log_conversion_item (idsite, server_time);

-- The last applied queue Position per shard (Hi and Lo are uint64 stored
-- bit for bit in a signed INTEGER).
CREATE TABLE shard_checkpoint (
	shard      TEXT    PRIMARY KEY,
	hi         INTEGER NOT NULL,
	lo         INTEGER NOT NULL,
	ts_updated INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- ReserveIDs: next is the first ID not yet handed out.
CREATE TABLE id_sequence (
	kind INTEGER PRIMARY KEY,
	name TEXT    NOT NULL,
	next INTEGER NOT NULL
) STRICT;
INSERT INTO id_sequence (kind, name, next) VALUES (1, 'visit', 1), (2, 'action', 1);

-- Daily salts of cookieless visitor hashes; deleted once the day is over.
CREATE TABLE salt (
	idsite INTEGER NOT NULL,
	day    TEXT    NOT NULL,
	value  BLOB    NOT NULL,
	PRIMARY KEY (idsite, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX salt_day ON salt (day);

-- Site days that received data late and must be archived again.
CREATE TABLE archive_invalidation (
	idsite     INTEGER NOT NULL,
	day        TEXT    NOT NULL,
	ts_created INTEGER NOT NULL,
	PRIMARY KEY (idsite, day)
) STRICT, WITHOUT ROWID;
