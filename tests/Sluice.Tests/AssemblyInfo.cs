// End-to-end tests run real encoders and decoders: two at a time on a 2-core machine.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
