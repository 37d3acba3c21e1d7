package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestExploreAtomicity(t *testing.T) {
	ctx := context.Background()
	client := connect(t, startInProcess(t))
	coll := client.Database("x").Collection("codes")
	const rounds, workers = 30, 8
	var delDoubles, updDoubles, updOneDoubles int
	for i := 0; i < rounds; i++ {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "used", Value: false}, {Key: "d", Value: true}})
		if err != nil {
			t.Fatal(err)
		}
		var nDel, nUpd, nUpdOne atomic.Int32
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: i}, {Key: "used", Value: false}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "used", Value: true}}}}).Err()
				if err == nil {
					nUpd.Add(1)
				} else if err != mongo.ErrNoDocuments {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// conditional UpdateOne
		_, _ = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: i}}, bson.D{{Key: "$set", Value: bson.D{{Key: "u2", Value: false}}}})
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "u2", Value: false}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "u2", Value: true}}}})
				if err != nil {
					t.Error(err)
					return
				}
				if res.ModifiedCount == 1 {
					nUpdOne.Add(1)
				}
			}()
		}
		wg.Wait()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := coll.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: i}}).Err()
				if err == nil {
					nDel.Add(1)
				} else if err != mongo.ErrNoDocuments {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if nUpd.Load() > 1 {
			updDoubles++
		}
		if nUpdOne.Load() > 1 {
			updOneDoubles++
		}
		if nDel.Load() > 1 {
			delDoubles++
		}
		if nUpd.Load() == 0 || nDel.Load() == 0 || nUpdOne.Load() == 0 {
			t.Errorf("round %d: zero winners %d %d %d", i, nUpd.Load(), nUpdOne.Load(), nDel.Load())
		}
	}
	t.Logf("rounds=%d workers=%d: FindOneAndUpdate multi-winner rounds=%d, UpdateOne multi-winner rounds=%d, FindOneAndDelete multi-winner rounds=%d", rounds, workers, updDoubles, updOneDoubles, delDoubles)
	_ = options.Client
}
