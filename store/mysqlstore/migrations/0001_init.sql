-- 0001: the initial schema, modelled on Matomo's tables (reference §7) and
-- on sqlitestore's 0001 (same tables, same column names, same meaning).
-- SCHEMA.md explains every table and index.
--
-- Conventions: times are DATETIME(3) in UTC ('0000-00-00' = no time);
-- free text of the log tables is VARBINARY (kept byte for byte, any
-- encoding, limits in bytes); names (URLs, titles, event, content, product
-- and search fields) live in log_action and are referenced by id:
-- NULL = absent, 0 = the empty string.
--
-- Every statement ends with ';' at the end of a line (the migration runner
-- splits on that) and can be re-run (IF NOT EXISTS), so that a migration
-- interrupted between two statements can resume.

CREATE TABLE IF NOT EXISTS site (
	idsite                         INT UNSIGNED NOT NULL AUTO_INCREMENT,
	name                           VARCHAR(255) NOT NULL,
	urls                           TEXT         NOT NULL, -- JSON array, main URL first
	timezone                       VARCHAR(64)  NOT NULL,
	currency                       VARCHAR(16)  NOT NULL,
	ecommerce                      TINYINT      NOT NULL,
	sitesearch                     TINYINT      NOT NULL,
	sitesearch_keyword_parameters  TEXT         NOT NULL,
	sitesearch_category_parameters TEXT         NOT NULL,
	excluded_ips                   TEXT         NOT NULL,
	excluded_parameters            TEXT         NOT NULL,
	excluded_user_agents           TEXT         NOT NULL,
	excluded_referrers             TEXT         NOT NULL,
	exclude_unknown_urls           TINYINT      NOT NULL,
	keep_url_fragment              TINYINT      NOT NULL,
	privacy_ipv4_mask_bytes        INT          NOT NULL,
	privacy_ipv6_mask_bits         INT          NOT NULL,
	privacy_store_ip               TINYINT      NOT NULL,
	privacy_cookieless             TINYINT      NOT NULL,
	privacy_dnt                    TINYINT      NOT NULL,
	privacy_gpc                    TINYINT      NOT NULL,
	privacy_hash_user_id           TINYINT      NOT NULL,
	privacy_scrub_pii              TINYINT      NOT NULL,
	privacy_retention_days         INT          NOT NULL,
	ts_created                     DATETIME(3)  NOT NULL,
	PRIMARY KEY (idsite)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS goal (
	idsite          INT UNSIGNED NOT NULL,
	idgoal          INT          NOT NULL,
	name            VARCHAR(255) NOT NULL,
	match_attribute VARCHAR(32)  NOT NULL,
	pattern         TEXT         NOT NULL,
	pattern_type    VARCHAR(16)  NOT NULL,
	case_sensitive  TINYINT      NOT NULL,
	allow_multiple  TINYINT      NOT NULL,
	revenue         DOUBLE       NOT NULL,
	PRIMARY KEY (idsite, idgoal)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC;

-- The name dictionary. type follows Matomo: 1 page URL, 2 outlink,
-- 3 download, 4 page title, 5 product SKU, 6 product name, 7 product
-- category, 8 site search keyword, 10/11/12 event category/action/name,
-- 13/14/15/16 content name/piece/target/interaction. hash is the first 16
-- bytes of SHA-256(type byte, name): a name is too long for a unique index,
-- its hash is not. prune_pending is set by DeleteUnusedNames on entries it
-- found unused and cleared by a writer that uses the entry again.
CREATE TABLE IF NOT EXISTS log_action (
	idaction      INT UNSIGNED      NOT NULL AUTO_INCREMENT,
	hash          BINARY(16)        NOT NULL,
	type          TINYINT UNSIGNED  NOT NULL,
	prune_pending TINYINT           NOT NULL DEFAULT 0,
	name          VARBINARY(4096)   NOT NULL,
	PRIMARY KEY (idaction),
	UNIQUE KEY log_action_hash (hash)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS log_visit (
	idvisit                     BIGINT UNSIGNED   NOT NULL,
	idsite                      INT UNSIGNED      NOT NULL,
	idvisitor                   BINARY(8)         NOT NULL,
	config_id                   BINARY(8)         NOT NULL,
	user_id                     VARBINARY(1024)   NOT NULL,
	profilable                  TINYINT           NOT NULL,
	visit_first_action_time     DATETIME(3)       NOT NULL,
	visit_last_action_time      DATETIME(3)       NOT NULL,
	visit_total_time            INT               NOT NULL,
	visitor_localtime           INT               NOT NULL,
	visit_total_actions         INT               NOT NULL,
	visit_total_interactions    INT               NOT NULL,
	visit_total_searches        INT               NOT NULL,
	visit_total_events          INT               NOT NULL,
	visit_total_pageviews       INT               NOT NULL,
	visitor_count_visits        INT               NOT NULL,
	visitor_returning           TINYINT           NOT NULL,
	visitor_seconds_since_first BIGINT            NOT NULL,
	visitor_seconds_since_last  BIGINT            NOT NULL,
	visitor_seconds_since_order BIGINT            NOT NULL,
	visit_goal_converted        TINYINT           NOT NULL,
	visit_goal_buyer            TINYINT           NOT NULL,
	visit_entry_idaction_url    INT UNSIGNED      NOT NULL,
	visit_entry_idaction_name   INT UNSIGNED      NOT NULL,
	visit_exit_idaction_url     INT UNSIGNED      NOT NULL,
	visit_exit_idaction_name    INT UNSIGNED      NOT NULL,
	last_idlink_va              BIGINT            NOT NULL,
	referer_type                TINYINT UNSIGNED  NOT NULL,
	referer_name                VARBINARY(1024)   NOT NULL,
	referer_keyword             VARBINARY(1024)   NOT NULL,
	referer_url                 VARBINARY(4096)   NOT NULL,
	campaign_source             VARBINARY(1024)   NOT NULL,
	campaign_medium             VARBINARY(1024)   NOT NULL,
	campaign_content            VARBINARY(1024)   NOT NULL,
	campaign_id                 VARBINARY(1024)   NOT NULL,
	config_browser_name         VARBINARY(255)    NOT NULL,
	config_browser_version      VARBINARY(255)    NOT NULL,
	config_browser_engine       VARBINARY(255)    NOT NULL,
	config_os                   VARBINARY(255)    NOT NULL,
	config_os_version           VARBINARY(255)    NOT NULL,
	config_device_type          TINYINT UNSIGNED  NOT NULL,
	config_device_brand         VARBINARY(255)    NOT NULL,
	config_device_model         VARBINARY(255)    NOT NULL,
	config_resolution           VARBINARY(255)    NOT NULL,
	config_plugins              SMALLINT UNSIGNED NOT NULL,
	location_browser_lang       VARBINARY(255)    NOT NULL,
	location_ip                 VARBINARY(16)     NULL, -- 4 or 16 bytes, NULL when no IP is stored
	location_country            VARBINARY(64)     NOT NULL,
	location_region             VARBINARY(64)     NOT NULL,
	location_region_name        VARBINARY(255)    NOT NULL,
	location_city               VARBINARY(255)    NOT NULL,
	location_latitude           DOUBLE            NULL, -- NULL when unknown
	location_longitude          DOUBLE            NULL,
	location_timezone           VARBINARY(64)     NOT NULL,
	dimensions                  BLOB              NULL, -- JSON [{"id":1,"v":"…"}], NULL when none
	PRIMARY KEY (idvisit),
	KEY log_visit_site_time (idsite, visit_last_action_time),
	KEY log_visit_site_visitor (idsite, idvisitor, visit_last_action_time),
	KEY log_visit_site_config (idsite, config_id, visit_last_action_time)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- Actions. parts is a bit set of the optional groups present: 1 event,
-- 2 site search, 4 content, 8 product, 16 page timing.
CREATE TABLE IF NOT EXISTS log_link_visit_action (
	idlink_va                    BIGINT UNSIGNED    NOT NULL,
	idsite                       INT UNSIGNED       NOT NULL,
	idvisitor                    BINARY(8)          NOT NULL,
	idvisit                      BIGINT UNSIGNED    NOT NULL,
	server_time                  DATETIME(3)        NOT NULL,
	hit_id                       BINARY(16)         NULL,
	type                         TINYINT UNSIGNED   NOT NULL,
	idaction_url                 INT UNSIGNED       NOT NULL,
	idaction_name                INT UNSIGNED       NOT NULL,
	idaction_url_ref             INT UNSIGNED       NOT NULL,
	idaction_name_ref            INT UNSIGNED       NOT NULL,
	idpageview                   VARBINARY(255)     NOT NULL,
	pageview_position            INT                NOT NULL,
	time_spent_ref_action        INT                NOT NULL,
	parts                        TINYINT UNSIGNED   NOT NULL,
	idaction_event_category      INT UNSIGNED       NULL,
	idaction_event_action        INT UNSIGNED       NULL,
	idaction_event_name          INT UNSIGNED       NULL,
	custom_float                 DOUBLE             NULL, -- event value, NULL when not sent
	idaction_search_keyword      INT UNSIGNED       NULL,
	search_cat                   VARBINARY(1024)    NULL,
	search_count                 INT                NULL,
	idaction_content_name        INT UNSIGNED       NULL,
	idaction_content_piece       INT UNSIGNED       NULL,
	idaction_content_target      INT UNSIGNED       NULL,
	idaction_content_interaction INT UNSIGNED       NULL,
	idaction_product_sku         INT UNSIGNED       NULL,
	idaction_product_name        INT UNSIGNED       NULL,
	idaction_product_cat         INT UNSIGNED       NULL,
	idaction_product_cat2        INT UNSIGNED       NULL,
	idaction_product_cat3        INT UNSIGNED       NULL,
	idaction_product_cat4        INT UNSIGNED       NULL,
	idaction_product_cat5        INT UNSIGNED       NULL,
	product_price                DOUBLE             NULL,
	time_network                 INT                NULL,
	time_server                  INT                NULL,
	time_transfer                INT                NULL,
	time_dom_processing          INT                NULL,
	time_dom_completion          INT                NULL,
	time_on_load                 INT                NULL,
	dimensions                   BLOB               NULL,
	PRIMARY KEY (idlink_va),
	KEY log_link_visit_action_visit (idvisit, server_time),
	KEY log_link_visit_action_site_time (idsite, server_time)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- Goal conversions (idgoal > 0), ecommerce orders (0) and the open cart of
-- a visit (-1). A conversion is identified by (idvisit, idgoal, buster,
-- idorder); an order is unique per (idsite, idorder) (order_key is NULL
-- for everything but orders, so the unique key ignores them); the store
-- keeps one conversion per (idvisit, idgoal, buster) of a goal or cart.
CREATE TABLE IF NOT EXISTS log_conversion (
	idvisit              BIGINT UNSIGNED  NOT NULL,
	idgoal               INT              NOT NULL,
	buster               BIGINT           NOT NULL,
	idorder              VARBINARY(1024)  NOT NULL,
	order_key            VARBINARY(1024)  AS (IF(idgoal = 0, idorder, NULL)) STORED,
	idsite               INT UNSIGNED     NOT NULL,
	idvisitor            BINARY(8)        NOT NULL,
	server_time          DATETIME(3)      NOT NULL,
	idlink_va            BIGINT           NOT NULL,
	idaction_url         INT UNSIGNED     NOT NULL,
	revenue              DOUBLE           NOT NULL,
	revenue_subtotal     DOUBLE           NOT NULL,
	revenue_tax          DOUBLE           NOT NULL,
	revenue_shipping     DOUBLE           NOT NULL,
	revenue_discount     DOUBLE           NOT NULL,
	items                INT              NOT NULL,
	pageviews_before     INT              NOT NULL,
	visitor_count_visits INT              NOT NULL,
	visitor_returning    TINYINT          NOT NULL,
	referer_type         TINYINT UNSIGNED NOT NULL,
	referer_name         VARBINARY(1024)  NOT NULL,
	referer_keyword      VARBINARY(1024)  NOT NULL,
	referer_url          VARBINARY(4096)  NOT NULL,
	campaign_source      VARBINARY(1024)  NOT NULL,
	campaign_medium      VARBINARY(1024)  NOT NULL,
	campaign_content     VARBINARY(1024)  NOT NULL,
	campaign_id          VARBINARY(1024)  NOT NULL,
	location_country     VARBINARY(64)    NOT NULL,
	PRIMARY KEY (idvisit, idgoal, buster, idorder),
	UNIQUE KEY log_conversion_order (idsite, order_key),
	KEY log_conversion_site_time (idsite, server_time)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- Lines of an order or cart, in the order they were sent (pos), keyed by
-- their conversion's key.
CREATE TABLE IF NOT EXISTS log_conversion_item (
	idvisit            BIGINT UNSIGNED   NOT NULL,
	idgoal             INT               NOT NULL,
	buster             BIGINT            NOT NULL,
	idorder            VARBINARY(1024)   NOT NULL,
	pos                SMALLINT UNSIGNED NOT NULL,
	idsite             INT UNSIGNED      NOT NULL,
	idvisitor          BINARY(8)         NOT NULL,
	server_time        DATETIME(3)       NOT NULL,
	idaction_sku       INT UNSIGNED      NOT NULL,
	idaction_name      INT UNSIGNED      NOT NULL,
	idaction_category  INT UNSIGNED      NULL,
	idaction_category2 INT UNSIGNED      NULL,
	idaction_category3 INT UNSIGNED      NULL,
	idaction_category4 INT UNSIGNED      NULL,
	idaction_category5 INT UNSIGNED      NULL,
	price              DOUBLE            NOT NULL,
	quantity           INT               NOT NULL,
	deleted            TINYINT           NOT NULL,
	PRIMARY KEY (idvisit, idgoal, buster, idorder, pos),
	KEY log_conversion_item_site_time (idsite, server_time)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- The last applied queue Position per shard. dict_epoch fences dictionary
-- pruning (see SCHEMA.md): a batch commits only while the epoch it
-- resolved its names under is current.
CREATE TABLE IF NOT EXISTS shard_checkpoint (
	shard      VARBINARY(255)  NOT NULL,
	hi         BIGINT UNSIGNED NOT NULL,
	lo         BIGINT UNSIGNED NOT NULL,
	dict_epoch BIGINT UNSIGNED NOT NULL,
	ts_updated DATETIME(3)     NOT NULL,
	PRIMARY KEY (shard)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- The dictionary epoch (one row), bumped by DeleteUnusedNames.
CREATE TABLE IF NOT EXISTS dict_epoch (
	id    TINYINT UNSIGNED NOT NULL,
	epoch BIGINT UNSIGNED  NOT NULL,
	PRIMARY KEY (id)
) ENGINE=InnoDB;

INSERT IGNORE INTO dict_epoch (id, epoch) VALUES (1, 1);

-- ReserveIDs: next is the first ID not yet handed out.
CREATE TABLE IF NOT EXISTS id_sequence (
	kind TINYINT UNSIGNED NOT NULL,
	name VARCHAR(32)      NOT NULL,
	next BIGINT UNSIGNED  NOT NULL,
	PRIMARY KEY (kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO id_sequence (kind, name, next) VALUES (1, 'visit', 1), (2, 'action', 1);

-- Daily salts of cookieless visitor hashes; deleted once the day is over.
CREATE TABLE IF NOT EXISTS salt (
	idsite INT UNSIGNED NOT NULL,
	day    DATE         NOT NULL,
	value  BINARY(32)   NOT NULL,
	PRIMARY KEY (idsite, day),
	KEY salt_day (day)
) ENGINE=InnoDB;

-- Site days that received data late and must be archived again.
CREATE TABLE IF NOT EXISTS archive_invalidation (
	idsite     INT UNSIGNED NOT NULL,
	day        DATE         NOT NULL,
	ts_created DATETIME(3)  NOT NULL,
	PRIMARY KEY (idsite, day)
) ENGINE=InnoDB;
