// A reader/writer lock that prefers writers: once a writer waits, new readers wait behind it.
// std::shared_mutex (glibc's default rwlock) prefers readers, so a stream of overlapping
// readers can hold a writer off indefinitely; the stores' appenders (readers, each holding
// the lock across a WAL group commit) starved flushes (the writer) for seconds that way.
//
// Satisfies SharedMutex: use with std::unique_lock / std::shared_lock. Not recursive.
// Thread-safe.
#ifndef SIGHTLINE_BASE_RWLOCK_H_
#define SIGHTLINE_BASE_RWLOCK_H_

#include <pthread.h>

namespace sightline {

class WriterPriorityRwLock {
 public:
  WriterPriorityRwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~WriterPriorityRwLock() { pthread_rwlock_destroy(&lock_); }
  WriterPriorityRwLock(const WriterPriorityRwLock&) = delete;
  WriterPriorityRwLock& operator=(const WriterPriorityRwLock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace sightline

#endif  // SIGHTLINE_BASE_RWLOCK_H_
