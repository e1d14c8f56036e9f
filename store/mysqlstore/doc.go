// Package mysqlstore is the production analytics.Store on MySQL/MariaDB.
package mysqlstore
