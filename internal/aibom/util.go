package aibom

import (
	"crypto/sha256"
	"fmt"
	"net/mail"
	"net/url"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// serialNumber derives the BOM's serial number from its content: the
// SHA-256 of the document as Encode writes it without serialNumber, which
// is aibom.cdx.json with its serialNumber line removed. The first 16 bytes
// of the digest become a version-8 UUID (RFC 9562, section 5.8), so
// identical inputs give the same serial number and any change a new one.
func serialNumber(bom *cdx.BOM) (string, error) {
	unnumbered := *bom
	unnumbered.SerialNumber = ""
	data, err := Encode(&unnumbered)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	sum[6] = (sum[6] & 0x0f) | 0x80
	sum[8] = (sum[8] & 0x3f) | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]), nil
}

// emailOf returns contact when it is an e-mail address, else "".
func emailOf(contact string) string {
	if addr, err := mail.ParseAddress(contact); err == nil && addr.Address == contact {
		return contact
	}
	return ""
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
