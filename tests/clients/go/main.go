// A tiny client-go program for mca's end-to-end tests: a real client nobody on the team wrote
// the transport of. Usage: clientgo KUBECONFIG COMMAND ARGS...
//
//	create NS NAME k=v,k=v   create a ConfigMap with labels
//	get NS NAME              print the ConfigMap's data as JSON
//	list NS                  print the names of the ConfigMaps, one per line
//	watch NS [RV]            watch from RV (none: from now, with the current objects first);
//	                         print "TYPE NAME@CLUSTER RV" for each event until stdin closes
//	inform NS                run a SharedInformerFactory informer on ConfigMaps; after every
//	                         change print "state name@cluster=value ..." (sorted; a value over
//	                         40 bytes as "sha256:HEX"); print "watch-error ..." when its watch
//	                         fails; stop when stdin closes. KUBE_FEATURE_WatchListClient=true
//	                         makes it use watch-list; KUBE_WATCHLIST_INCONSISTENCY_DETECTOR=true
//	                         makes client-go compare what it got with a LIST (and panic)
//	inform-metadata NS       the same with a metadata-only informer (PartialObjectMetadata, as
//	                         the garbage collector and controller-runtime's OnlyMetadata use);
//	                         print "state name@cluster ..."
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) < 4 {
		fail("usage: clientgo KUBECONFIG COMMAND NS [ARGS]")
	}
	config, err := clientcmd.BuildConfigFromFlags("", os.Args[1])
	check(err)
	client, err := kubernetes.NewForConfig(config)
	check(err)
	ctx := context.Background()
	configMaps := client.CoreV1().ConfigMaps(os.Args[3])
	switch os.Args[2] {
	case "create":
		labels := map[string]string{}
		if len(os.Args) > 5 && os.Args[5] != "" {
			for _, pair := range strings.Split(os.Args[5], ",") {
				kv := strings.SplitN(pair, "=", 2)
				labels[kv[0]] = kv[1]
			}
		}
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: os.Args[4], Labels: labels},
			Data:       map[string]string{"writer": "client-go"},
		}
		_, err := configMaps.Create(ctx, cm, metav1.CreateOptions{})
		check(err)
		fmt.Println("created", os.Args[4])
	case "get":
		cm, err := configMaps.Get(ctx, os.Args[4], metav1.GetOptions{})
		check(err)
		out, _ := json.Marshal(cm.Data)
		fmt.Println(string(out))
	case "list":
		list, err := configMaps.List(ctx, metav1.ListOptions{})
		check(err)
		for _, item := range list.Items {
			fmt.Println(item.Name)
		}
	case "watch":
		options := metav1.ListOptions{}
		if len(os.Args) > 4 {
			options.ResourceVersion = os.Args[4]
		}
		w, err := configMaps.Watch(ctx, options)
		check(err)
		fmt.Println("watching")
		go func() {
			bufio.NewReader(os.Stdin).ReadString('\n')
			w.Stop()
		}()
		for event := range w.ResultChan() {
			if cm, ok := event.Object.(*corev1.ConfigMap); ok {
				fmt.Println(event.Type, cm.Name+"@"+cm.Annotations["mca.k8s.io/cluster"],
					cm.ResourceVersion)
			} else if status, ok := event.Object.(*metav1.Status); ok {
				fmt.Println(event.Type, status.Code, status.Reason)
			}
		}
	case "inform":
		inform(client, os.Args[3])
	case "inform-metadata":
		informMetadata(config, os.Args[3])
	default:
		fail("unknown command " + os.Args[2])
	}
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}

// inform prints the informer's whole view after each change: what a controller would see.
func inform(client kubernetes.Interface, namespace string) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, time.Hour,
		informers.WithNamespace(namespace))
	informer := factory.Core().V1().ConfigMaps().Informer()
	var mu sync.Mutex
	show := func() {
		mu.Lock()
		defer mu.Unlock()
		var names []string
		for _, item := range informer.GetStore().List() {
			cm := item.(*corev1.ConfigMap)
			value := cm.Data["v"]
			if len(value) > 40 {
				value = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(value)))
			}
			names = append(names, fmt.Sprintf("%s@%s=%s", cm.Name,
				cm.Annotations["mca.k8s.io/cluster"], value))
		}
		sort.Strings(names)
		fmt.Println("state " + strings.Join(names, " "))
	}
	check(informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		fmt.Println("watch-error " + strings.ReplaceAll(err.Error(), "\n", " "))
	}))
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { show() },
		UpdateFunc: func(any, any) { show() },
		DeleteFunc: func(any) { show() },
	})
	check(err)
	stop := make(chan struct{})
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	show()
	bufio.NewReader(os.Stdin).ReadString('\n')
	close(stop)
}

// informMetadata prints a metadata-only informer's view after each change.
func informMetadata(config *rest.Config, namespace string) {
	client, err := metadata.NewForConfig(config)
	check(err)
	factory := metadatainformer.NewFilteredSharedInformerFactory(client, time.Hour, namespace, nil)
	informer := factory.ForResource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Informer()
	var mu sync.Mutex
	show := func() {
		mu.Lock()
		defer mu.Unlock()
		var names []string
		for _, item := range informer.GetStore().List() {
			object := item.(*metav1.PartialObjectMetadata)
			names = append(names, object.Name+"@"+object.Annotations["mca.k8s.io/cluster"])
		}
		sort.Strings(names)
		fmt.Println("state " + strings.Join(names, " "))
	}
	check(informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		fmt.Println("watch-error " + strings.ReplaceAll(err.Error(), "\n", " "))
	}))
	_, err = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { show() },
		UpdateFunc: func(any, any) { show() },
		DeleteFunc: func(any) { show() },
	})
	check(err)
	stop := make(chan struct{})
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	show()
	bufio.NewReader(os.Stdin).ReadString('\n')
	close(stop)
}
