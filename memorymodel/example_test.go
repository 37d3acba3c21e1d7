package memorymodel_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// Seed a model with a confidential client and serve it. The Model
// interfaces have no way to add clients, so each model has its own; here
// it is [memorymodel.Model.AddClient].
func ExampleNew() {
	model := memorymodel.New()
	if err := model.AddClient(context.Background(), &oauth2server.Client{
		ID: "service-a",

		SecretHash: oauth2server.HashSecret("a-long-random-secret"),
		Grants:     []string{oauth2server.GrantClientCredentials},
		Scopes:     []string{"read"},
	}); err != nil {
		log.Fatal(err)
	}
	srv, err := oauth2server.New(model, oauth2server.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_ = srv // mount it with the handlers package

	// An id in use is refused.
	err = model.AddClient(context.Background(), &oauth2server.Client{ID: "service-a"})
	fmt.Println(errors.Is(err, memorymodel.ErrDuplicate))
	// Output: true
}

// A public client, which has no secret and must use PKCE, for the
// authorization code flow of a browser or mobile application.
func ExampleModel_AddClient() {
	model := memorymodel.New()
	client := &oauth2server.Client{
		ID:           "spa",
		RedirectURIs: []string{"https://app.example.com/callback"}, // matched exactly
		Grants:       []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken},
		Scopes:       []string{"profile"},
	}
	if err := model.AddClient(context.Background(), client); err != nil {
		log.Fatal(err)
	}
	// The model keeps a copy: changing client now changes nothing stored.
	client.Scopes[0] = "admin"

	stored, err := model.GetClient(context.Background(), "spa")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stored.IsPublic(), stored.Scopes)
	// Output: true [profile]
}

// Users sign in on your login page (and with the password grant, when
// enabled). Store a password as a bcrypt hash made by HashPassword;
// GetUser checks it in constant time.
func ExampleModel_AddUser() {
	model := memorymodel.New()
	hash, err := oauth2server.HashPassword("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	if err := model.AddUser(context.Background(), &oauth2server.User{ID: "u-1", Username: "alice"}, hash); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	user, err := model.GetUser(ctx, "alice", "correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.ID)
	// A wrong password and an unknown user look the same: nil, nil.
	user, err = model.GetUser(ctx, "alice", "wrong")
	fmt.Println(user, err)
	// Output:
	// u-1
	// <nil> <nil>
}
