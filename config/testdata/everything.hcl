data_dir = "/var/lib/footfall"

log {
  level  = "debug"
  format = "json"
}

ingest {
  listen                               = "0.0.0.0:9000"
  prefix                               = "/matomo/"
  trusted_proxies                      = ["10.0.0.0/8", "2001:db8::/32"]
  client_ip_headers                    = ["X-Forwarded-For", "CF-Connecting-IP"]
  proxy_ip_read_last                   = false
  max_body_bytes                       = "64KB"
  max_bulk_items                       = 50
  max_url_length                       = 4096
  max_field_length                     = 512
  record_statistics                    = false
  site_refresh                         = "1m30s"
  custom_timestamp_requires_auth_after = "1.5s"
  bulk_requires_auth                   = true
  tracking_tokens                      = ["0123456789abcdef", "fedcba9876543210"]
}

admin {
  listen            = "10.1.2.3:8081"
  allowed_cidrs     = []
  force_ssl         = true
  maintenance       = true
  browser_archiving = true
}

queue {
  driver      = "redis"
  shards      = 256
  ack_timeout = "2m30s"

  redis {
    url               = "rediss://footfall:p%40ss%22w0rd@redis.internal:6380/3"
    prefix            = "ff-prod"
    lease_ttl         = "20s"
    max_memory        = "3221225473"
    dead_letter_after = 10
  }

  spool {
    dir       = "/spool/$${NOMAD_ALLOC_ID}"
    max_bytes = "10GiB"
  }
}

store {
  driver = "mysql"

  sqlite {
    path = "/tmp/x.db"
  }

  mysql {
    dsn               = "footfall:%%{p}@tcp(db:3306)/footfall?parseTime=true"
    max_open_conns    = 32
    max_idle_conns    = 4
    conn_max_lifetime = "0s"
    tls               = "preferred"
  }
}

geo {
  database = "/usr/share/GeoIP/GeoLite2-City.mmdb"
}

worker {
  processors = 8
  batch_size = 1000
}

tracker {
  visit_length                 = "1h"
  new_visit_at_midnight        = false
  new_visit_on_campaign_change = false
  new_visit_on_referrer_change = true
  max_actions_per_visit        = 500
  excluded_query_params        = ["session", "token"]
  excluded_ips                 = ["192.168.1.*", "::1"]
  excluded_user_agents         = ["HeadlessChrome", "Ünïcödé\tbot\n"]
  track_bots                   = true
}

privacy {
  ipv4_mask_bytes = 0
  ipv6_mask_bits  = 128
  store_ip        = false
  cookieless      = true
  dnt             = "exclude"
  gpc             = "ignore"
  hash_user_id    = true
  consent         = "tracking"
  scrub_pii       = true
  retention_days  = 180
  salt_grace      = "0s"
  salt            = "a salt of 16+ bytes, with \\ and \""
}

archive {
  interval  = "6h"
  today_ttl = "5m"
}
