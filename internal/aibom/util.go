package aibom

import (
	"crypto/sha256"
	"fmt"
	"net/mail"
	"net/url"

	"github.com/auditpack/auditpack/internal/lineage"
)

// serialNumber derives a version-5-style UUID URN from the artifacts'
// digests, so that the BOM of the same model is the same document.
func serialNumber(lin *lineage.Lineage) string {
	h := sha256.New()
	for _, a := range lin.Artifacts {
		fmt.Fprintf(h, "%s %s\n", a.SHA256, a.Path)
	}
	for _, d := range lin.Datasets {
		fmt.Fprintf(h, "%s %s\n", d.SHA256, d.Name)
	}
	sum := h.Sum(nil)
	sum[6] = (sum[6] & 0x0f) | 0x50
	sum[8] = (sum[8] & 0x3f) | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
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
