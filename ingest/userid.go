package ingest

// HashUserID returns a user id as the Processor stores it when a site's
// Privacy.HashUserID is on (Matomo's anonymizeUserId): the hex SHA-1 of the
// salt and the user id. Tools that look a user up (GDPR export and delete)
// hash the id they are given the same way.
func HashUserID(uid, salt string) string { return procHashUserID(uid, salt) }
