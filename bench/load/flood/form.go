package main

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
)

// The pages are parsed with regular expressions, not an HTML parser: the
// forms are small, written by us, and only their action, method, hidden
// inputs and named buttons matter. Nothing else of the markup is assumed,
// so the login and consent templates may change around them.
var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form\s*>`)
	fieldRe = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
	titleRe = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
	// approveRe matches the submit button that grants access.
	approveRe = regexp.MustCompile(`(?i)approve|allow|accept|grant|authori[sz]e`)
)

// htmlForm is a form of a page, reduced to what a browser would send.
type htmlForm struct {
	Method string // GET or POST
	Action string // absolute
	// Values are the hidden inputs and the checked checkboxes and radio
	// buttons, carried along as they are.
	Values url.Values
	// Text are the names of the visible text inputs, in page order.
	Text []string
	// Password is the name of the password input, if any.
	Password string
	// Submits are the named submit buttons, in page order.
	Submits []submit
}

type submit struct{ Name, Value string }

// parseForms returns the forms of page, with actions resolved against the
// page's URL.
func parseForms(page []byte, pageURL *url.URL) []htmlForm {
	var out []htmlForm
	for _, m := range formRe.FindAllSubmatch(page, -1) {
		fa := attrs(string(m[1]))
		f := htmlForm{Method: strings.ToUpper(fa["method"]), Values: url.Values{}}
		if f.Method != "POST" {
			f.Method = "GET"
		}
		f.Action = pageURL.String()
		if a, ok := fa["action"]; ok && a != "" {
			if u, err := pageURL.Parse(a); err == nil {
				f.Action = u.String()
			}
		}
		for _, fm := range fieldRe.FindAllSubmatch(m[2], -1) {
			tag := strings.ToLower(string(fm[1]))
			a := attrs(string(fm[2]))
			name := a["name"]
			typ := strings.ToLower(a["type"])
			if tag == "button" {
				if (typ == "" || typ == "submit") && name != "" {
					f.Submits = append(f.Submits, submit{name, a["value"]})
				}
				continue
			}
			if name == "" {
				continue
			}
			_, checked := a["checked"]
			switch typ {
			case "hidden":
				f.Values.Add(name, a["value"])
			case "password":
				f.Password = name
			case "submit", "image":
				f.Submits = append(f.Submits, submit{name, a["value"]})
			case "checkbox", "radio":
				if checked {
					v, ok := a["value"]
					if !ok {
						v = "on"
					}
					f.Values.Add(name, v)
				}
			case "", "text", "email", "tel", "search", "url":
				f.Text = append(f.Text, name)
			}
		}
		out = append(out, f)
	}
	return out
}

// attrs parses the attributes of a start tag. Names are lower-cased, values
// unescaped; an attribute without a value maps to "".
func attrs(s string) map[string]string {
	out := make(map[string]string)
	for _, m := range attrRe.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; dup {
			continue // the first one counts, as in a browser
		}
		out[name] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return out
}

// pageTitle returns the page's <title>, for error messages.
func pageTitle(page []byte) string {
	if m := titleRe.FindSubmatch(page); m != nil {
		return strings.TrimSpace(html.UnescapeString(string(m[1])))
	}
	return ""
}

// errNoForm means a page offered neither a login nor an approval form.
var errNoForm = errors.New("no login or approval form on the page")

// nextForm picks what a user would submit on page: the login form (with a
// password input), filled with username and password, or else the form
// with an approving submit button, submitted with that button.
func nextForm(page []byte, pageURL *url.URL, username, password string) (method, action string, body url.Values, err error) {
	forms := parseForms(page, pageURL)
	for _, f := range forms {
		if f.Password == "" {
			continue
		}
		if len(f.Text) == 0 {
			return "", "", nil, fmt.Errorf("login form of %q has no username input", pageTitle(page))
		}
		user := f.Text[0]
		for _, n := range f.Text {
			if l := strings.ToLower(n); strings.Contains(l, "user") || strings.Contains(l, "login") || strings.Contains(l, "email") {
				user = n
				break
			}
		}
		f.Values.Set(user, username)
		f.Values.Set(f.Password, password)
		return f.Method, f.Action, f.Values, nil
	}
	for _, f := range forms {
		for _, s := range f.Submits {
			if approveRe.MatchString(s.Value) || approveRe.MatchString(s.Name) {
				f.Values.Set(s.Name, s.Value)
				return f.Method, f.Action, f.Values, nil
			}
		}
	}
	return "", "", nil, fmt.Errorf("%w %q (%d forms)", errNoForm, pageTitle(page), len(forms))
}
