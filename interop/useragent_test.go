package interop

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// userAgent is a user with a browser that does not run scripts: it
// follows redirects, signs in on a page with a password field and approves
// on a page with an approve button, carrying cookies and hidden fields as
// a browser does. It knows nothing of the example's templates beyond
// that, so it drives any login and consent pages built the same way.
type userAgent struct {
	t *testing.T
	c *http.Client
	// pages lists the pages it filled in, in order: "login", "consent".
	pages []string
	// username is what the login form's username field held when the
	// page came (a prefill), for each login page.
	prefills []string
}

func newUserAgent(t *testing.T) *userAgent {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &userAgent{t: t, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// visit opens u and goes on through redirects and pages until a redirect
// leads to a URL that starts with stopAt (the relying party's redirect
// URI), which it returns without opening. Pages visited since the last
// visit are in ua.pages.
func (ua *userAgent) visit(u, stopAt string) *url.URL {
	ua.t.Helper()
	ua.pages, ua.prefills = nil, nil
	method, body := http.MethodGet, url.Values(nil)
	for range 20 {
		if strings.HasPrefix(u, stopAt) {
			out, err := url.Parse(u)
			if err != nil {
				ua.t.Fatal(err)
			}
			return out
		}
		resp, page := ua.do(method, u, body)
		base := resp.Request.URL
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := base.Parse(resp.Header.Get("Location"))
			if err != nil {
				ua.t.Fatalf("redirect from %s: %v", u, err)
			}
			u, method, body = loc.String(), http.MethodGet, nil
			continue
		case resp.StatusCode != http.StatusOK:
			ua.t.Fatalf("%s %s: %d\n%s", method, u, resp.StatusCode, page)
		}
		f := pageForms(ua.t, page)
		switch {
		case f.login != nil:
			ua.pages = append(ua.pages, "login")
			ua.prefills = append(ua.prefills, f.login.fields.Get("username"))
			f.login.fields.Set("username", username)
			f.login.fields.Set("password", userPassword)
			u, body = resolve(ua.t, base, f.login.action), f.login.fields
		case f.consent != nil:
			ua.pages = append(ua.pages, "consent")
			f.consent.fields.Set("decision", "approve")
			u, body = resolve(ua.t, base, f.consent.action), f.consent.fields
		default:
			ua.t.Fatalf("%s: a page without a login or consent form:\n%s", u, page)
		}
		method = http.MethodPost
	}
	ua.t.Fatalf("more than 20 steps from %s", u)
	return nil
}

func (ua *userAgent) do(method, u string, form url.Values) (*http.Response, string) {
	ua.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ua.t.Context(), method, u, body)
	if err != nil {
		ua.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := ua.c.Do(req)
	if err != nil {
		ua.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ua.t.Fatal(err)
	}
	return resp, string(b)
}

func resolve(t *testing.T, base *url.URL, ref string) string {
	t.Helper()
	u, err := base.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// form is an HTML form: where it posts and what it would send (its
// hidden and text inputs; buttons are the caller's to add).
type form struct {
	action string
	fields url.Values
}

// forms are the forms of a page the user agent knows how to fill in.
type forms struct {
	login   *form // has a password input
	consent *form // has a button decision=approve
}

func pageForms(t *testing.T, page string) forms {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out forms
	var cur *form
	var password, approve bool
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				cur, password, approve = &form{action: attr(n, "action"), fields: url.Values{}}, false, false
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
				switch {
				case password:
					out.login = cur
				case approve:
					out.consent = cur
				}
				cur = nil
				return
			case "input":
				if cur != nil {
					switch attr(n, "type") {
					case "password":
						password = true
					case "submit", "button":
					default:
						if name := attr(n, "name"); name != "" {
							cur.fields.Set(name, attr(n, "value"))
						}
					}
				}
			case "button":
				if cur != nil && attr(n, "name") == "decision" && attr(n, "value") == "approve" {
					approve = true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
